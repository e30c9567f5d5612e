package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The signals an operator alerts on move with the traffic, scraped from {@code GET /metrics} on
 * the management port over real HTTP: acknowledged appends and bytes, journal writes and batch
 * sizes, refusals by reason, sessions in memory, live readers waiting, HTTP responses by class.
 */
class OperationsMetricsTest {
  private static OpsTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = OpsTestServer.start("ops-metrics", "tether.streams.long-poll-timeout = 20s",
        OpsTestServer.inMemory());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpRequest.Builder post(String id, String body) {
    return HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void appendsJournalWritesRefusalsSessionsAndReadersShowUpInTheScrape() throws Exception {
    double appends = server.metric("tether_session_appends_total");
    double bytes = server.metric("tether_session_appended_bytes_total");
    double writes = server.metric("tether_journal_write_seconds_count");
    double batches = server.metric("tether_journal_batch_items_sum");
    double gaps = server.metric("tether_appends_rejected_total{reason=\"sequence_gap\"}");
    double sessions = server.metric("tether_sessions_in_memory");
    double ok = server.metric("tether_http_requests_total{status=\"2xx\"}");

    String id = "metrics-" + System.nanoTime();
    assertEquals(201, server.send(HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.noBody()))
        .statusCode());
    for (int i = 0; i < 5; i++) {
      assertEquals(204, server.send(post(id, "item-" + i)).statusCode());
    }
    HttpResponse<String> gap = server.send(post(id, "x").header("Producer-Id", "p")
        .header("Producer-Epoch", "0").header("Producer-Seq", "7"));
    assertEquals(409, gap.statusCode());

    assertEquals(appends + 5, server.metric("tether_session_appends_total"));
    assertEquals(bytes + 5 * "item-0".length(),
        server.metric("tether_session_appended_bytes_total"));
    assertTrue(server.metric("tether_journal_write_seconds_count") >= writes + 5);
    assertEquals(batches + 5, server.metric("tether_journal_batch_items_sum"));
    assertEquals(gaps + 1,
        server.metric("tether_appends_rejected_total{reason=\"sequence_gap\"}"));
    assertEquals(sessions + 1, server.metric("tether_sessions_in_memory"));
    assertTrue(server.metric("tether_http_requests_total{status=\"2xx\"}") >= ok + 6);
    assertTrue(server.metric("tether_http_requests_total{status=\"4xx\"}") >= 1);

    // A long-poll reader waiting at the tail is a live reader until data answers it.
    double readers = server.metric("tether_session_subscribers");
    String tail = server.send(HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
        .method("HEAD", HttpRequest.BodyPublishers.noBody())).headers()
        .firstValue("Stream-Next-Offset").orElseThrow();
    CompletableFuture<HttpResponse<String>> waiting = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(URI.create(server.streamUrl(id) + "?offset=" + tail
            + "&live=long-poll")).GET().build(), HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (server.metric("tether_session_subscribers") < readers + 1
        && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertEquals(readers + 1, server.metric("tether_session_subscribers"));
    assertEquals(204, server.send(post(id, "wake")).statusCode());
    assertEquals(200, waiting.get().statusCode());
    assertEquals(readers, server.metric("tether_session_subscribers"));
  }
}
