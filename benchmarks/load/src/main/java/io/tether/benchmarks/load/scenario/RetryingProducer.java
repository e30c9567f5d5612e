package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A token writer that rides out a node failure as a client library would: tokens queue while an
 * append is in flight and the next append carries them all; an append that fails (timeout, 5xx,
 * 429, connection error) is sent again, the same body under the same {@code Producer-Seq}, until
 * it is acknowledged, so the server's idempotent-producer check makes every token land exactly
 * once however often it is retried. Any other refusal stops the writer (it would only repeat).
 */
final class RetryingProducer {
  private static final long RETRY_DELAY_MS = 100;

  private final StreamClient client;
  private final String stream;
  private final String producerId;
  private final List<String> queue = new ArrayList<>();
  private List<String> inFlight;
  private long nextToken;
  private long requestSeq;
  private long lastAckedToken = -1;
  private long firstAckAfterNanos = Long.MAX_VALUE;
  private long ackWatchFrom = Long.MAX_VALUE;
  private int retries;
  private String refused;

  RetryingProducer(StreamClient client, String stream, String producerId) {
    this.client = client;
    this.stream = stream;
    this.producerId = producerId;
  }

  /** One token, produced now; its {@code "n"} is the next sequence number, {@code "t"} now. */
  synchronized void produce() {
    if (refused != null) {
      return;
    }
    queue.add(Payloads.tokenDelta(0, nextToken++, System.nanoTime()));
    if (inFlight == null) {
      sendQueued();
    }
  }

  /**
   * From now on, remembers when the first append carrying a token produced at or after
   * {@code nanos} is acknowledged (writes are back after a failure).
   */
  synchronized void watchAcksFrom(long nanos) {
    ackWatchFrom = nanos;
    firstAckAfterNanos = Long.MAX_VALUE;
  }

  /** When the first watched append was acknowledged, or {@code Long.MAX_VALUE}. */
  synchronized long firstAckAfter() {
    return firstAckAfterNanos;
  }

  /** Tokens produced so far (sequence numbers 0 to this minus one). */
  synchronized long produced() {
    return nextToken;
  }

  /** The highest token sequence number acknowledged (every lower one is acknowledged too). */
  synchronized long lastAcked() {
    return lastAckedToken;
  }

  synchronized int retries() {
    return retries;
  }

  /** Why the server refused an append for good, or null. */
  synchronized String refused() {
    return refused;
  }

  synchronized boolean idle() {
    return inFlight == null && queue.isEmpty();
  }

  private void sendQueued() {
    inFlight = new ArrayList<>(queue);
    queue.clear();
    send(inFlight, requestSeq++);
  }

  private void send(List<String> batch, long seq) {
    long sentAt = System.nanoTime();
    Map<String, String> headers = Map.of("Producer-Id", producerId, "Producer-Epoch", "0",
        "Producer-Seq", Long.toString(seq));
    client.append(stream, StreamClient.JSON, Payloads.jsonArray(batch), headers)
        .whenComplete((w, e) -> {
          long now = System.nanoTime();
          synchronized (this) {
            if (e == null && w.ok()) {
              lastAckedToken += batch.size();
              if (firstAckAfterNanos == Long.MAX_VALUE && newestToken(batch) >= ackWatchFrom) {
                firstAckAfterNanos = now;
              }
              inFlight = null;
              if (!queue.isEmpty()) {
                sendQueued();
              }
              return;
            }
            int status = e == null ? 0 : -1;
            if (e == null) {
              status = w.status();
            }
            if (status > 0 && status / 100 == 4 && status != 408 && status != 429) {
              refused = "HTTP " + status + " for Producer-Seq " + seq;
              inFlight = null;
              return;
            }
            retries++;
          }
          CompletableFuture.delayedExecutor(Math.max(0, RETRY_DELAY_MS
              - TimeUnit.NANOSECONDS.toMillis(now - sentAt)), TimeUnit.MILLISECONDS)
              .execute(() -> send(batch, seq));
        });
  }

  /** The send time of the last token of a batch (each token carries {@code "t"}). */
  private static long newestToken(List<String> batch) {
    long[] newest = {Long.MIN_VALUE};
    io.tether.benchmarks.load.client.TimestampScanner.scan(batch.get(batch.size() - 1),
        t -> newest[0] = Math.max(newest[0], t));
    return newest[0];
  }
}
