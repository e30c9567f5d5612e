package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Journal faults injected under a session over real HTTP (the testkit journal fails or rejects
 * the next write of one stream): the batch that could not be written is refused with 503 and
 * Retry-After well inside the ask timeout, none of its items is ever acknowledged or readable,
 * readers keep reading the durable tail while the entity backs off, and the entity takes appends
 * again by itself.
 */
class JournalFailureTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  private static OpsTestServer server;
  private static PersistenceTestKit journal;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = OpsTestServer.start("journal-failure", """
        tether.session.persist-failure-backoff.min = 3s
        tether.session.persist-failure-backoff.max = 3s
        tether.session.persist-failure-backoff.random-factor = 0
        tether.http.ask-timeout = 8s
        """, OpsTestServer.inMemory());
    journal = PersistenceTestKit.create(server.system);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String create() throws Exception {
    String id = "jf-" + System.nanoTime();
    assertEquals(201, server.send(HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.noBody()))
        .statusCode());
    return id;
  }

  private static HttpRequest append(String id, int n) {
    return HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + n + "}")).build();
  }

  private static List<Integer> readAll(String id) throws Exception {
    HttpResponse<String> read = server.get("/v1/stream/" + id + "?offset=-1");
    assertEquals(200, read.statusCode(), read.body());
    List<Integer> out = new ArrayList<>();
    Matcher m = N.matcher(read.body());
    while (m.find()) {
      out.add(Integer.parseInt(m.group(1)));
    }
    return out;
  }

  /**
   * Appends {@code n} as a client does while the entity backs off: each refusal is a retryable
   * 503, and the next attempt follows its Retry-After, until the entity takes it (within 20 s).
   */
  private static void appendOnceBack(String id, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    HttpResponse<String> response;
    while ((response = http.send(append(id, n), HttpResponse.BodyHandlers.ofString()))
        .statusCode() == 503) {
      assertRetryable503(response);
      assertTrue(System.nanoTime() < deadline, "the entity did not take appends again");
      TimeUnit.SECONDS.sleep(1); // the Retry-After
    }
    assertEquals(204, response.statusCode(), response.body());
  }

  private static void assertRetryable503(HttpResponse<String> response) {
    assertEquals(503, response.statusCode(), response.body());
    assertTrue(response.headers().firstValue("Retry-After").isPresent());
    assertTrue(response.headers().firstValue("Content-Type").orElse("")
        .startsWith("application/problem+json"));
  }

  @Test
  void aFailedWriteRefusesItsWholeBatchAndTheEntityComesBackByItself() throws Exception {
    String id = create();
    assertEquals(204, http.send(append(id, 0), HttpResponse.BodyHandlers.ofString())
        .statusCode());
    double failures = server.metric("tether_journal_write_failures_total");
    journal.failNextPersisted("Session|" + id);

    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int n = 1; n <= 30; n++) {
      calls.add(http.sendAsync(append(id, n), HttpResponse.BodyHandlers.ofString()));
    }
    Set<Integer> acked = new TreeSet<>(List.of(0));
    int refused = 0;
    for (int n = 1; n <= 30; n++) {
      HttpResponse<String> response = calls.get(n - 1).get();
      assertFalse(response.statusCode() >= 500 && response.statusCode() != 503, response.body());
      if (response.statusCode() == 204) {
        acked.add(n);
      } else {
        assertRetryable503(response);
        refused++;
      }
    }
    assertTrue(refused > 0, "the failed write refused its batch");
    List<Integer> stored = readAll(id);
    assertEquals(new ArrayList<>(acked), stored.stream().sorted().toList(),
        "exactly the acknowledged items are stored");
    assertEquals(stored.size(), new TreeSet<>(stored).size(), "no duplicates");
    assertTrue(server.metric("tether_journal_write_failures_total") >= failures + 1);

    // Back by itself after its back-off (it refuses appends at once until then).
    appendOnceBack(id, 99);
    assertTrue(readAll(id).contains(99));
  }

  @Test
  void readersKeepReadingTheDurableTailWhileTheEntityBacksOff() throws Exception {
    String id = create();
    for (int n = 0; n < 3; n++) {
      assertEquals(204, http.send(append(id, n), HttpResponse.BodyHandlers.ofString())
          .statusCode());
    }
    journal.failNextPersisted("Session|" + id);
    long start = System.nanoTime();
    assertRetryable503(http.send(append(id, 3), HttpResponse.BodyHandlers.ofString()));
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "refused at once, not at timeout");
    // The entity now waits 3 s before it restarts: reads come from its last durable tail.
    assertEquals(List.of(0, 1, 2), readAll(id));
    assertTrue(System.nanoTime() - start < 3_000_000_000L, "the read was served during back-off");
    // An append during the back-off is refused at once, not held until the ask timeout.
    long sent = System.nanoTime();
    assertRetryable503(http.send(append(id, 4), HttpResponse.BodyHandlers.ofString()));
    assertTrue(System.nanoTime() - sent < 1_000_000_000L, "refused at once during the back-off");
    // A client that retries after Retry-After gets in once the entity is back.
    appendOnceBack(id, 5);
    // The refused append was not kept for later: 503 meant not written.
    assertEquals(List.of(0, 1, 2, 5), readAll(id));
  }

  @Test
  void aRejectedWriteCrashesTheEntityMidBatchWithoutAcknowledgingOrLosingAnything()
      throws Exception {
    String id = create();
    assertEquals(204, http.send(append(id, 0), HttpResponse.BodyHandlers.ofString())
        .statusCode());
    journal.rejectNextPersisted("Session|" + id);
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int n = 1; n <= 10; n++) {
      calls.add(http.sendAsync(append(id, n), HttpResponse.BodyHandlers.ofString()));
    }
    Set<Integer> acked = new TreeSet<>(List.of(0));
    for (int n = 1; n <= 10; n++) {
      HttpResponse<String> response = calls.get(n - 1).get();
      if (response.statusCode() == 204) {
        acked.add(n);
      } else {
        assertRetryable503(response);
      }
    }
    assertTrue(acked.size() < 11, "the crashed batch was refused");
    assertEquals(new ArrayList<>(acked), readAll(id).stream().sorted().toList());
    appendOnceBack(id, 11);
    assertTrue(readAll(id).contains(11));
  }
}
