/**
 * Tether's black-box benchmark: a load generator that speaks only the public Durable Streams
 * HTTP protocol, runs the scenarios of issue 8 against Tether and against the Durable Streams
 * reference server in the same run, and writes JSON, Markdown and PNG results. It depends on no
 * Tether module; {@link io.tether.benchmarks.load.BenchmarkMain} is the entry point.
 */
package io.tether.benchmarks.load;
