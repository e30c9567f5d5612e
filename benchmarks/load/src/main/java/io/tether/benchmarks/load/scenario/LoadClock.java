package io.tether.benchmarks.load.scenario;

import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Paces open-loop producers: calls {@code emit(i)} for producer {@code i} so that each emits at
 * {@code ratePerSecond}, staggered so the producers do not all fire on the same tick, until
 * {@code seconds} have passed. Open loop on purpose: a slow server makes tokens queue (and shows
 * up as latency), it does not slow the model down.
 */
final class LoadClock {
  private LoadClock() {}

  /** Runs on the calling thread; returns the number of emits. */
  static long run(int producers, double ratePerSecond, double seconds, IntConsumer emit) {
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    long[] emitted = new long[producers];
    double intervalNanos = 1e9 / ratePerSecond;
    long total = 0;
    long now;
    while ((now = System.nanoTime()) < end) {
      for (int i = 0; i < producers; i++) {
        double phase = intervalNanos * i / producers;
        long due = (long) ((now - start + intervalNanos - phase) / intervalNanos);
        while (emitted[i] < due) {
          emit.accept(i);
          emitted[i]++;
          total++;
        }
      }
      LockSupport.parkNanos(1_000_000);
    }
    return total;
  }
}
