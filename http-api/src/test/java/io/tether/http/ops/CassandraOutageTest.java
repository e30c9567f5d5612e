package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Cassandra stopped under a producer and started again, with a real Cassandra of the test's own
 * and a node serving real HTTP. While it is down: every append is answered within the ask
 * timeout, 2xx or 503 with Retry-After, never 500; readers keep reading what the entity holds in
 * memory; {@code /ready} is 503 naming the journal. When it is back, appends succeed again
 * without any restart, {@code /ready} is 200, and the stream holds every acknowledged item once,
 * in order, also as a freshly started node recovers it from the journal.
 */
class CassandraOutageTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);
  /** From Cassandra answering again to the next acknowledged append. */
  private static final Duration RESUME_BUDGET = Duration.ofSeconds(15);

  /** An idempotent producer that retries each sequence number until acknowledged. */
  private static final class Producer {
    final OpsTestServer server;
    final String id;
    long seq;
    final List<Integer> acked = new ArrayList<>();
    int refused;

    Producer(OpsTestServer server, String id) {
      this.server = server;
      this.id = id;
    }

    /** One attempt at the current sequence number; true when acknowledged. */
    boolean attempt() throws Exception {
      long start = System.nanoTime();
      HttpResponse<String> response = server.send(HttpRequest.newBuilder(
              URI.create(server.streamUrl(id)))
          .header("Content-Type", "application/json")
          .header("Producer-Id", "outage-producer").header("Producer-Epoch", "0")
          .header("Producer-Seq", Long.toString(seq))
          .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + seq + "}")));
      long took = System.nanoTime() - start;
      assertTrue(took < ASK_TIMEOUT.plusSeconds(3).toNanos(),
          "an append hung for " + Duration.ofNanos(took));
      int status = response.statusCode();
      if (status == 200 || status == 204) {
        acked.add((int) seq);
        seq++;
        return true;
      }
      assertEquals(503, status, "only 2xx or 503 while the journal is away: " + response.body());
      assertTrue(response.headers().firstValue("Retry-After").isPresent());
      refused++;
      return false;
    }
  }

  private static List<Integer> items(HttpResponse<String> read) {
    List<Integer> out = new ArrayList<>();
    Matcher m = N.matcher(read.body());
    while (m.find()) {
      out.add(Integer.parseInt(m.group(1)));
    }
    return out;
  }

  @Test
  void appendsAreRefusedWith503WhileCassandraIsDownAndNothingAcknowledgedIsLost()
      throws Exception {
    String keyspace = "outage_" + Long.toString(System.nanoTime(), 36);
    try (OwnCassandra cassandra = OwnCassandra.start("outage-cassandra")) {
      String overrides = """
          tether.http.ask-timeout = 5s
          tether.http.readiness.journal-timeout = 2s
          tether.session.persist-failure-backoff { min = 500ms, max = 2s }
          """;
      String id = "outage";
      Producer producer;
      try (OpsTestServer server = OpsTestServer.start("outage", overrides,
          cassandra.overlay(keyspace))) {
        assertEquals(201, server.send(HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
            .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.noBody()))
            .statusCode());
        producer = new Producer(server, id);
        while (producer.acked.size() < 20) {
          producer.attempt();
        }
        assertEquals(200, server.get("/ready").statusCode());

        cassandra.stop();
        int consecutiveRefusals = 0;
        long slowestLaterRefusal = 0;
        while (consecutiveRefusals < 5) {
          long sent = System.nanoTime();
          boolean acknowledged = producer.attempt();
          if (!acknowledged && consecutiveRefusals > 0) {
            slowestLaterRefusal = Math.max(slowestLaterRefusal, System.nanoTime() - sent);
          }
          consecutiveRefusals = acknowledged ? 0 : consecutiveRefusals + 1;
          if (producer.seq > 1000) {
            fail("appends kept succeeding with Cassandra stopped");
          }
        }
        // Once its write has failed, the session refuses appends at once while it backs off and
        // recovers (OutageAnswers), instead of holding each for the ask timeout.
        assertTrue(slowestLaterRefusal < Duration.ofSeconds(1).toNanos(),
            "an append was held " + Duration.ofNanos(slowestLaterRefusal) + " during the outage");
        List<Integer> ackedDuringOutage = List.copyOf(producer.acked);

        HttpResponse<String> ready = server.get("/ready");
        assertEquals(503, ready.statusCode());
        assertTrue(ready.body().contains("journal"), ready.body());

        // Readers keep reading what the entity holds in memory: everything acknowledged.
        HttpResponse<String> read = server.get("/v1/stream/" + id + "?offset=-1");
        assertEquals(200, read.statusCode(), read.body());
        assertEquals(ackedDuringOutage, items(read));

        cassandra.restart();
        long answering = System.nanoTime();
        // The session takes appends again soon after Cassandra answers: the driver reconnects
        // (2 s at most here), the journal's and snapshot store's breakers let a call through
        // (tether-persistence.conf: 2 s; with Pekko's 60 s this waited for most of a minute),
        // then the session's back-off.
        long deadline = answering + RESUME_BUDGET.toNanos();
        while (!producer.attempt()) {
          assertTrue(System.nanoTime() < deadline, "no append acknowledged within "
              + RESUME_BUDGET.toSeconds() + " s of Cassandra answering again");
          TimeUnit.MILLISECONDS.sleep(100); // a client's pause between refused attempts
        }
        System.out.printf("cassandra outage: appends acknowledged again %d ms after Cassandra "
            + "answered%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answering));
        deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        int after = 1;
        while (after < 20) {
          if (producer.attempt()) {
            after++;
          }
          assertTrue(System.nanoTime() < deadline, "appends did not recover by themselves");
        }
        while (server.get("/ready").statusCode() != 200) {
          assertTrue(System.nanoTime() < deadline, "/ready did not recover");
        }
        assertTrue(producer.refused >= 5);
        HttpResponse<String> all = server.get("/v1/stream/" + id + "?offset=-1");
        assertEquals(producer.acked, items(all));
      }

      // A fresh node recovers the stream from the journal alone: nothing acknowledged is lost.
      try (OpsTestServer fresh = OpsTestServer.start("outage-fresh", overrides,
          cassandra.overlay(keyspace))) {
        List<Integer> recovered = new ArrayList<>();
        String offset = "-1";
        while (true) {
          HttpResponse<String> page = fresh.get("/v1/stream/" + id + "?offset=" + offset);
          assertEquals(200, page.statusCode(), page.body());
          recovered.addAll(items(page));
          offset = page.headers().firstValue("Stream-Next-Offset").orElseThrow();
          if (page.headers().firstValue("Stream-Up-To-Date").isPresent()) {
            break;
          }
        }
        assertEquals(producer.acked, recovered);
      }
    }
  }
}
