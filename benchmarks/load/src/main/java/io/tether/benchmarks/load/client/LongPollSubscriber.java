package io.tether.benchmarks.load.client;

import io.tether.benchmarks.load.measure.DeliverySink;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A live reader in long-poll mode ({@code GET ?offset=&live=long-poll&cursor=}). It resolves
 * {@code now} to a concrete tail offset with one catch-up read first, so {@link #ready()} means
 * "polling from a known offset". A request cannot be aborted with the JDK 17 client, so
 * {@link #stop()} only stops re-polling; closing the stream ends pending polls at once.
 */
public final class LongPollSubscriber extends AbstractSubscriber {
  private static final int MAX_CONSECUTIVE_FAILURES = 5;

  private final HttpClient http;
  private final StreamClient client;
  private final String stream;
  private final DeliverySink sink;
  private volatile String offset;
  private volatile String cursor;
  private volatile boolean stopped;
  private int consecutiveFailures;

  LongPollSubscriber(HttpClient http, StreamClient client, String stream, String offset,
      DeliverySink sink) {
    this.http = http;
    this.client = client;
    this.stream = stream;
    this.offset = offset;
    this.sink = sink;
  }

  @Override
  public void start() {
    if (!"now".equals(offset)) {
      ready.complete(null);
      poll();
      return;
    }
    HttpRequest tail = client.authorize(
        HttpRequest.newBuilder(client.withOffset(stream, "now", null))).GET().build();
    http.sendAsync(tail, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
      String next = e == null && r.statusCode() == 200
          ? r.headers().firstValue("Stream-Next-Offset").orElse(null) : null;
      if (next == null) {
        failures.incrementAndGet();
        ready.completeExceptionally(new IllegalStateException("tail read of " + stream
            + " failed: " + (e != null ? e : "HTTP " + r.statusCode())));
        finished.complete(null);
        return;
      }
      offset = next;
      ready.complete(null);
      poll();
    });
  }

  private void poll() {
    if (stopped) {
      finished.complete(null);
      return;
    }
    String query = cursor == null ? ""
        : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8);
    URI uri = URI.create(client.withOffset(stream, offset, "long-poll") + query);
    HttpRequest request = client.authorize(HttpRequest.newBuilder(uri))
        .timeout(Duration.ofMinutes(2)).GET().build();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> {
      boolean closed = false;
      boolean failed = e != null || (r.statusCode() != 200 && r.statusCode() != 204);
      if (failed) {
        failures.incrementAndGet();
        consecutiveFailures++;
      } else {
        consecutiveFailures = 0;
        if (r.statusCode() == 200) {
          sink.onPayload(r.body());
          sequence.check(r.body());
        }
        offset = r.headers().firstValue("Stream-Next-Offset").orElse(offset);
        cursor = r.headers().firstValue("Stream-Cursor").orElse(cursor);
        closed = "true".equalsIgnoreCase(r.headers().firstValue("Stream-Closed").orElse(""));
      }
      if (stopped || closed || consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
        finished.complete(null);
      } else {
        reconnects.incrementAndGet();
        CompletableFuture.delayedExecutor(failed ? 200 : 0, TimeUnit.MILLISECONDS)
            .execute(this::poll);
      }
    });
  }

  @Override
  public void stop() {
    stopped = true;
  }
}
