/**
 * Turns a run report into files: the JSON of record, a Markdown table with every figure for
 * every target and the Tether/peer ratio, PNG plots drawn with Java2D, and the description of
 * the machine the figures came from.
 */
package io.tether.benchmarks.load.report;
