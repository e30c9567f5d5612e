package io.tether.benchmarks.load.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every live reader keeps the same way, whatever its transport (long-poll, SSE, WebSocket):
 * its readiness and end, its failure and reconnect counts, and the sequence check of what it
 * delivered.
 */
abstract class AbstractSubscriber implements LiveSubscriber {
  protected final CompletableFuture<Void> ready = new CompletableFuture<>();
  protected final CompletableFuture<Void> finished = new CompletableFuture<>();
  protected final AtomicInteger failures = new AtomicInteger();
  protected final AtomicInteger reconnects = new AtomicInteger();
  protected final SequenceCheck sequence = new SequenceCheck();

  /** Done for good: ready (if it never was) and finished. */
  protected void finish() {
    ready.complete(null);
    finished.complete(null);
  }

  @Override
  public CompletableFuture<Void> ready() {
    return ready;
  }

  @Override
  public CompletableFuture<Void> finished() {
    return finished;
  }

  @Override
  public int failures() {
    return failures.get();
  }

  @Override
  public int reconnects() {
    return reconnects.get();
  }

  @Override
  public long sequenceAnomalies() {
    return sequence.anomalies();
  }
}
