/**
 * JMH microbenchmarks of Tether's hot paths, and the report that turns JMH's JSON into the
 * Markdown table committed under {@code benchmarks/results/jmh/}.
 *
 * <p>Benchmarks of public API live here; those that need package-private access live in the
 * measured class's own package ({@code io.tether.actors.session.stream}, {@code io.tether.http.live},
 * {@code io.tether.http.streams}), which is fine on a class path. They call Tether's code, never
 * a copy of it. Where a benchmark also has a {@code reference} method, that method is not
 * Tether code: it is a plain hand-written version of the same output, checked equal in setup,
 * to show what the measured code costs against the obvious alternative.
 */
package io.tether.benchmarks.jmh;
