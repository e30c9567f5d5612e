package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.StreamClient.Written;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Runs many asynchronous writes with at most {@code concurrency} in flight, and counts how many
 * the server acknowledged. Used to set scenarios up (create streams, fill them).
 */
final class Bulk {
  /** How a bulk operation went. */
  record Outcome(int ok, int failed, String lastFailure, double seconds) {}

  private Bulk() {}

  static Outcome run(int count, int concurrency, int timeoutSeconds,
      IntFunction<CompletableFuture<Written>> op) throws InterruptedException {
    Semaphore permits = new Semaphore(concurrency);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<String> lastFailure =
        new java.util.concurrent.atomic.AtomicReference<>("none");
    long began = System.nanoTime();
    long deadline = began + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    for (int i = 0; i < count; i++) {
      if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        failed.addAndGet(count - i);
        break;
      }
      op.apply(i).whenComplete((w, e) -> {
        if (e == null && w.ok()) {
          ok.incrementAndGet();
        } else {
          failed.incrementAndGet();
          lastFailure.set(e == null ? w.failure()
              : String.valueOf(e.getCause() == null ? e : e.getCause()));
        }
        permits.release();
      });
    }
    permits.tryAcquire(concurrency, Math.max(0, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    return new Outcome(ok.get(), count - ok.get(), lastFailure.get(),
        (System.nanoTime() - began) / 1e9);
  }
}
