/**
 * Measurement primitives shared by the scenarios: latency histograms (HdrHistogram, in
 * microseconds), per-second rate timelines, the delivery sink that live readers feed, and the
 * resident-memory probe of a server process.
 */
package io.tether.benchmarks.load.measure;
