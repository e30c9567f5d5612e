package io.tether.benchmarks.load.result;

import org.HdrHistogram.Histogram;

/** Percentiles of one latency histogram, in milliseconds. */
public record LatencySummary(String name, long count, double meanMs, double p50Ms, double p90Ms,
    double p99Ms, double p999Ms, double maxMs) {

  /** Summarizes a histogram recorded in microseconds. */
  public static LatencySummary of(String name, Histogram micros) {
    return new LatencySummary(name, micros.getTotalCount(), micros.getMean() / 1000.0,
        ms(micros, 50), ms(micros, 90), ms(micros, 99), ms(micros, 99.9),
        micros.getMaxValue() / 1000.0);
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
  }
}
