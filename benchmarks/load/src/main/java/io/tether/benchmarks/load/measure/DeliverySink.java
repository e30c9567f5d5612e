package io.tether.benchmarks.load.measure;

import io.tether.benchmarks.load.client.TimestampScanner;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Where live readers hand what they receive. Every delivered message counts; its latency (now
 * minus the send time embedded in it) is recorded only when it was sent inside the measurement
 * window, so warm-up and drain do not colour the percentiles.
 */
public final class DeliverySink {
  private final Histogram latency = Latencies.newHistogram();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder deliveredInWindow = new LongAdder();
  private final RateTimeline timeline;
  private volatile long windowStart = Long.MAX_VALUE;
  private volatile long windowEnd = Long.MAX_VALUE;

  public DeliverySink(RateTimeline timeline) {
    this.timeline = timeline;
  }

  /** Messages sent from now on (until {@link #closeWindow}) are measured. */
  public void openWindow(long nowNanos) {
    windowStart = nowNanos;
  }

  public void closeWindow(long nowNanos) {
    windowEnd = nowNanos;
  }

  /**
   * Accounts for every message in one delivered payload (an SSE data event, a read body, a
   * WebSocket event frame); returns how many messages with a send time it held.
   */
  public int onPayload(CharSequence payload) {
    long now = System.nanoTime();
    int n = TimestampScanner.scan(payload, sent -> {
      if (sent >= windowStart && sent <= windowEnd) {
        Latencies.record(latency, sent, now);
        deliveredInWindow.increment();
      }
    });
    delivered.add(n);
    timeline.add(now, n);
    return n;
  }

  public Histogram latency() {
    return latency;
  }

  public long delivered() {
    return delivered.sum();
  }

  public long deliveredInWindow() {
    return deliveredInWindow.sum();
  }
}
