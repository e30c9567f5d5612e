package io.tether.benchmarks.load.client;

import java.util.concurrent.CompletableFuture;

/**
 * A live reader of one stream. It hands every delivered payload to its sink, follows the
 * server's next offsets, reconnects from the last one when the server ends a response, and
 * finishes when the stream is closed or {@link #stop()} is called.
 */
public interface LiveSubscriber {
  /** Connects; returns at once. */
  void start();

  /** Completes when the reader is attached at the tail (SSE: first control event). */
  CompletableFuture<Void> ready();

  /** Completes when the reader has stopped for good. */
  CompletableFuture<Void> finished();

  /** Stops reading and releases the connection where the transport allows it. */
  void stop();

  /** Failed requests or connections so far (non-2xx or I/O errors). */
  int failures();

  /** Times the reader had to open a new request after the previous one ended. */
  int reconnects();

  /**
   * Messages delivered twice, out of order, or after a gap, judged by the producer's sequence
   * number {@code "n"}; meaningful where one producer writes the stream in order.
   */
  long sequenceAnomalies();
}
