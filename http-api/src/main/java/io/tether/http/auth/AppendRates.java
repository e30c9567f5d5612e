package io.tether.http.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One token bucket per token on this node: a token may append {@code rate} times a second
 * sustained, and {@code burst} times at once after a quiet spell. A bucket that has refilled is
 * indistinguishable from a new one, so full buckets are dropped now and then: memory follows the
 * tokens active in the last few seconds, not every token ever seen. (A take racing the sweep
 * of its full bucket lands on the dropped bucket: at most one append more than the burst.)
 */
final class AppendRates {
  private static final long NANOS = 1_000_000_000L;
  private static final int SWEEP_EVERY = 4096;

  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final AtomicLong calls = new AtomicLong();
  private final LongSupplier nanoTime;

  AppendRates(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** Takes one append for {@code tokenId}: 0 when allowed, else the nanos until one is. */
  long tryAcquire(String tokenId, int rate, int burst) {
    long now = nanoTime.getAsLong();
    if (calls.incrementAndGet() % SWEEP_EVERY == 0) {
      buckets.values().removeIf(b -> b.fullAt(now));
    }
    return buckets.computeIfAbsent(tokenId, id -> new Bucket(burst, now)).take(rate, burst, now);
  }

  /** Buckets held (for tests of the sweep). */
  int size() {
    return buckets.size();
  }

  private static final class Bucket {
    private double available;
    private long updated;
    private int rate = 1;
    private int burst = 1;

    Bucket(int burst, long now) {
      this.available = burst;
      this.updated = now;
    }

    synchronized long take(int rate, int burst, long now) {
      this.rate = rate;
      this.burst = burst;
      available = Math.min(burst, available + (now - updated) / (double) NANOS * rate);
      updated = now;
      if (available >= 1) {
        available -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - available) / rate * NANOS);
    }

    synchronized boolean fullAt(long now) {
      return available + (now - updated) / (double) NANOS * rate >= burst;
    }
  }
}
