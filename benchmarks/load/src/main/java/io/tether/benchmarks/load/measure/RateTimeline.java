package io.tether.benchmarks.load.measure;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts events in one-second buckets from a start instant, for the throughput-over-time plots.
 * Events before {@link #startAt} or past the covered range are dropped from the timeline (never
 * from the totals a scenario keeps itself).
 */
public final class RateTimeline {
  private volatile long startNanos = Long.MAX_VALUE;
  private final AtomicLongArray buckets;

  public RateTimeline(int seconds) {
    this.buckets = new AtomicLongArray(Math.max(1, seconds));
  }

  /** Second 0 begins at {@code nanos} (a {@link System#nanoTime()} value). */
  public void startAt(long nanos) {
    startNanos = nanos;
  }

  public void add(long nowNanos, long count) {
    long start = startNanos;
    long index = (nowNanos - start) / 1_000_000_000L;
    if (nowNanos >= start && index >= 0 && index < buckets.length()) {
      buckets.addAndGet((int) index, count);
    }
  }

  /** Per-second counts of the first {@code seconds} seconds. */
  public double[] perSecond(int seconds) {
    int n = Math.min(seconds, buckets.length());
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = buckets.get(i);
    }
    return out;
  }
}
