package io.tether.benchmarks.load.measure;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Creates the latency histograms every scenario records into: microsecond values up to ten
 * minutes, three significant digits, safe for concurrent recorders.
 */
public final class Latencies {
  private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  private Latencies() {}

  public static Histogram newHistogram() {
    return new ConcurrentHistogram(MAX_MICROS, 3);
  }

  /** Records the time from {@code startNanos} to {@code endNanos}, clamped into range. */
  public static void record(Histogram histogram, long startNanos, long endNanos) {
    long micros = Math.max(0, (endNanos - startNanos) / 1_000);
    histogram.recordValue(Math.min(micros, MAX_MICROS));
  }
}
