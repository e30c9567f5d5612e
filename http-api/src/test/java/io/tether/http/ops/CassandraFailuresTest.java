package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cassandra itself failing under a node serving real HTTP, on a real Cassandra of this class's
 * own (the lane's is never stopped), shared by its two tests, each in a keyspace of its own: one
 * Cassandra start fewer than a Cassandra per test. Each test leaves it running, and one that
 * failed half way is started again before the next.
 *
 * <p><b>An outage</b> ({@link #appendsAreRefusedWith503WhileCassandraIsDownAndNothingAcknowledgedIsLost}):
 * Cassandra stopped under a producer and started again. While it is down: every append is
 * answered within the ask timeout, 2xx or 503 with Retry-After, never 500; readers keep reading
 * what the entity holds in memory; {@code /ready} is 503 naming the journal. When it is back,
 * appends succeed again without any restart, {@code /ready} is 200, and the stream holds every
 * acknowledged item once, in order, also as a freshly started node recovers it from the journal.
 *
 * <p><b>A crash</b> ({@link #everyItemAcknowledgedBeforeCassandraWasKilledIsReadBackAfterItsRestart}):
 * "acknowledged means on disk", tested against Cassandra itself. Cassandra is killed with
 * SIGKILL while several producers append to it through a node (so appends are in flight at the
 * kill: no drain, no memtable flush, no orderly commit-log close), then started again on the same
 * data. A freshly started node must then recover, from the journal alone, every item that was
 * acknowledged before the kill, once and in order, plus the items acknowledged after the
 * restart. What this proves is that an acknowledgement is only sent after Cassandra has the
 * write in its commit log (the journal's write completed, {@code commitlog-sync = batch} of the
 * local Cassandra), and that the commit log replays after a crash. It cannot prove the fsync
 * itself: a killed process leaves its written pages in the kernel's page cache, so only a power
 * loss or an OS crash (see the README's Runbook) tells an fsynced write from a merely written one.
 */
class CassandraFailuresTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  /** From Cassandra answering again to an acknowledged append (on every stream). */
  private static final Duration RESUME_BUDGET = Duration.ofSeconds(15);

  private static OwnCassandra cassandra;

  @BeforeAll
  static void startCassandra() throws Exception {
    cassandra = OwnCassandra.start("failures-cassandra");
  }

  @BeforeEach
  void cassandraRuns() {
    cassandra.ensureRunning();
  }

  @AfterAll
  static void killCassandra() throws Exception {
    if (cassandra != null) {
      cassandra.close();
    }
  }

  // An outage: stopped and started again.

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

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
      assertEquals(producer.acked, LoadFaultsTest.readAll(fresh, id));
    }
  }

  // A crash: killed with SIGKILL and started again.

  private static final int PRODUCERS = 4;
  /** Held while an acknowledgement is recorded and while the SIGKILL is sent. */
  private static final Object KILL = new Object();

  @Test
  void everyItemAcknowledgedBeforeCassandraWasKilledIsReadBackAfterItsRestart() throws Exception {
    String keyspace = "crash_" + Long.toString(System.nanoTime(), 36);
    String overrides = """
        tether.http.ask-timeout = 5s
        tether.session.persist-failure-backoff { min = 300ms, max = 1s }
        """;
    List<List<Integer>> acked = new ArrayList<>();
    List<List<Integer>> ackedBeforeKill = new ArrayList<>();
    AtomicInteger refusedAfterKill = new AtomicInteger();
    long resumedMillis = -1;
    try (OpsTestServer server = OpsTestServer.start("crash", overrides, cassandra.overlay(keyspace))) {
      for (int p = 0; p < PRODUCERS; p++) {
        LoadFaultsTest.createJson(server, "crash-" + p);
        acked.add(Collections.synchronizedList(new ArrayList<>()));
      }
      AtomicBoolean killed = new AtomicBoolean();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
      List<Future<?>> producers = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        String id = "crash-" + p;
        List<Integer> mine = acked.get(p);
        producers.add(pool.submit(() -> produce(server, id, mine, stop, killed, refusedAfterKill)));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (acked.stream().mapToInt(List::size).min().orElse(0) < 100) {
        assertTrue(System.nanoTime() < deadline, "producers were not acknowledged");
        TimeUnit.MILLISECONDS.sleep(20);
      }
      // The producers do not pause: the kill lands while appends are in flight.
      synchronized (KILL) {
        killed.set(true);
        for (List<Integer> mine : acked) {
          ackedBeforeKill.add(List.copyOf(mine));
        }
        cassandra.kill();
      }
      // Appends are refused (503) while Cassandra is down; then it comes back on its data.
      deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (refusedAfterKill.get() < PRODUCERS) {
        assertTrue(System.nanoTime() < deadline, "no append was refused with Cassandra killed");
        TimeUnit.MILLISECONDS.sleep(20);
      }
      cassandra.restart();
      long answering = System.nanoTime();
      int[] atRestart = acked.stream().mapToInt(List::size).toArray();
      // Every stream takes appends again soon after Cassandra answers: the driver reconnects
      // (2 s at most here), the journal's and snapshot store's breakers let a call through
      // (tether-persistence.conf: 2 s; Pekko's 60 s took 47 s here), the session's back-off.
      deadline = answering + RESUME_BUDGET.toNanos();
      for (int p = 0; p < PRODUCERS; p++) {
        while (acked.get(p).size() == atRestart[p]) {
          assertTrue(System.nanoTime() < deadline, "crash-" + p + ": no append acknowledged within "
              + RESUME_BUDGET.toSeconds() + " s of Cassandra answering again");
          TimeUnit.MILLISECONDS.sleep(20);
        }
      }
      resumedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answering);
      deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      for (int p = 0; p < PRODUCERS; p++) {
        while (acked.get(p).size() < atRestart[p] + 20) {
          assertTrue(System.nanoTime() < deadline, "appends did not recover after the restart");
          TimeUnit.MILLISECONDS.sleep(20);
        }
      }
      stop.set(true);
      for (Future<?> f : producers) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
    }

    // A fresh node has nothing in memory: it reads what the journal kept.
    try (OpsTestServer fresh = OpsTestServer.start("crash-fresh", overrides, cassandra.overlay(keyspace))) {
      int total = 0;
      for (int p = 0; p < PRODUCERS; p++) {
        List<Integer> recovered = LoadFaultsTest.readAll(fresh, "crash-" + p);
        List<Integer> before = ackedBeforeKill.get(p);
        assertTrue(recovered.size() >= before.size()
                && recovered.subList(0, before.size()).equals(before),
            "crash-" + p + ": items acknowledged before the kill are missing after the restart; "
                + before.size() + " acknowledged, recovered " + recovered.size());
        assertEquals(acked.get(p), recovered, "crash-" + p + ": stored != acknowledged");
        total += before.size();
      }
      System.out.printf("cassandra crash: SIGKILL under %d producers with appends in flight "
              + "(%d refused while it was down); every stream took appends again %d ms after "
              + "Cassandra answered; %d items acknowledged before the kill, every one "
              + "recovered from the journal after the restart, none twice%n",
          PRODUCERS, refusedAfterKill.get(), resumedMillis, total);
    }
  }

  /** Appends {"n":seq} with an idempotent producer, retrying each seq until acknowledged. */
  private static Void produce(OpsTestServer server, String id, List<Integer> acked, AtomicBoolean stop,
      AtomicBoolean killed, AtomicInteger refusedAfterKill) throws Exception {
    long seq = 0;
    while (!stop.get()) {
      HttpResponse<String> r;
      try {
        r = server.send(HttpRequest.newBuilder(URI.create(server.streamUrl(id)))
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .header("Producer-Id", "crash").header("Producer-Epoch", "0")
            .header("Producer-Seq", Long.toString(seq))
            .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + seq + "}")));
      } catch (java.io.IOException | InterruptedException e) {
        continue;
      }
      if (r.statusCode() == 200 || r.statusCode() == 204) {
        // Recorded under the same lock as the kill: an ack counts as "before the kill" only if
        // it arrived before the SIGKILL was sent.
        synchronized (KILL) {
          acked.add((int) seq);
        }
        seq++;
      } else {
        assertEquals(503, r.statusCode(), r.body());
        if (killed.get()) {
          refusedAfterKill.incrementAndGet();
        }
        TimeUnit.MILLISECONDS.sleep(100);
      }
    }
    return null;
  }
}
