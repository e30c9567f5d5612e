package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;

/**
 * "Acknowledged means on disk", tested against Cassandra itself: a real Cassandra of the test's
 * own is killed with SIGKILL while several producers append to it through a node (so appends are
 * in flight at the kill: no drain, no memtable flush, no orderly commit-log close), then started
 * again on the same data. A freshly started node must then recover, from the journal alone,
 * every item that was acknowledged before the kill, once and in order, plus the items
 * acknowledged after the restart.
 *
 * <p>What this proves is that an acknowledgement is only sent after Cassandra has the write in
 * its commit log (the journal's write completed, {@code commitlog-sync = batch} of the local
 * Cassandra), and that the commit log replays after a crash. It cannot prove the fsync itself:
 * a killed process leaves its written pages in the kernel's page cache, so only a power loss or
 * an OS crash (see the README's Runbook) tells an fsynced write from a merely written one.
 */
class CassandraCrashTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  private static final int PRODUCERS = 4;
  /** From Cassandra answering again to an acknowledged append on every stream. */
  private static final Duration RESUME_BUDGET = Duration.ofSeconds(15);
  /** Held while an acknowledgement is recorded and while the SIGKILL is sent. */
  private static final Object KILL = new Object();

  @Test
  void everyItemAcknowledgedBeforeCassandraWasKilledIsReadBackAfterItsRestart() throws Exception {
    String keyspace = "crash_" + Long.toString(System.nanoTime(), 36);
    try (OwnCassandra cassandra = OwnCassandra.start("crash-cassandra")) {
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
          List<Integer> recovered = readAll(fresh, "crash-" + p);
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

  private static List<Integer> readAll(OpsTestServer server, String id) throws Exception {
    List<Integer> out = new ArrayList<>();
    String offset = "-1";
    for (int guard = 0; guard < 10_000; guard++) {
      HttpResponse<String> page = server.get("/v1/stream/" + id + "?offset=" + offset);
      assertEquals(200, page.statusCode(), page.body());
      Matcher m = N.matcher(page.body());
      while (m.find()) {
        out.add(Integer.parseInt(m.group(1)));
      }
      offset = page.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (page.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        return out;
      }
    }
    throw new AssertionError("no Stream-Up-To-Date");
  }
}
