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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A bounded soak on loopback against the real Cassandra: idempotent producers append at a
 * steady rate to a few sessions while WebSocket and long-poll subscribers keep joining and
 * leaving (each rejoining from the last offset it saw). At the end every subscriber has seen
 * every acknowledged event exactly once, in order, and the heap after GC has not grown.
 *
 * <p>{@code -Dtether.soak.seconds=N} sets the length (60 s by default, the short version run by
 * {@code ./tether test}); the README's runbook gives the long command.
 */
class SoakTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  private static final int STREAMS = 3;
  private static final long PERIOD_MILLIS = 25; // 40 appends/s per stream

  @Test
  void steadyLoadWithSubscribersComingAndGoingDeliversEveryAckedEventOnceWithFlatMemory()
      throws Exception {
    long seconds = Long.getLong("tether.soak.seconds", 60);
    try (OpsTestServer server = OpsTestServer.start("soak", "",
        OpsTestServer.sharedCassandra("soak"))) {
      List<String> ids = new ArrayList<>();
      List<List<Integer>> acked = new ArrayList<>();
      for (int s = 0; s < STREAMS; s++) {
        String id = "soak-" + s;
        LoadFaultsTest.createJson(server, id);
        ids.add(id);
        acked.add(Collections.synchronizedList(new ArrayList<>()));
      }
      AtomicBoolean producing = new AtomicBoolean(true);
      AtomicBoolean subscribing = new AtomicBoolean(true);
      ExecutorService pool = Executors.newFixedThreadPool(STREAMS * 3);
      List<Future<?>> producers = new ArrayList<>();
      List<Future<List<Integer>>> readers = new ArrayList<>();
      for (int s = 0; s < STREAMS; s++) {
        String id = ids.get(s);
        List<Integer> ack = acked.get(s);
        producers.add(pool.submit(() -> produce(server, id, ack, producing)));
        readers.add(pool.submit(() -> webSocketChain(server, id, ack, producing, subscribing)));
        readers.add(pool.submit(() -> longPollChain(server, id, ack, producing, subscribing)));
      }
      long warmUp = Math.min(10, seconds / 4);
      TimeUnit.SECONDS.sleep(warmUp); // the load's length, not a synchronization
      long heapAtStart = LoadFaultsTest.heapAfterGc();
      TimeUnit.SECONDS.sleep(seconds - warmUp);
      producing.set(false);
      for (Future<?> producer : producers) {
        producer.get();
      }
      List<List<Integer>> seen = new ArrayList<>();
      for (Future<List<Integer>> reader : readers) {
        seen.add(reader.get(180, TimeUnit.SECONDS));
      }
      subscribing.set(false);
      pool.shutdown();
      long heapAtEnd = LoadFaultsTest.heapAfterGc();

      int total = 0;
      for (int s = 0; s < STREAMS; s++) {
        List<Integer> expected = List.copyOf(acked.get(s));
        total += expected.size();
        assertEquals(expected, seen.get(2 * s), "WebSocket subscriber of " + ids.get(s));
        assertEquals(expected, seen.get(2 * s + 1), "long-poll subscriber of " + ids.get(s));
        assertEquals(expected, LoadFaultsTest.readAll(server, ids.get(s)));
      }
      assertTrue(total >= seconds * STREAMS * 5, "the load was not steady: " + total + " acks");
      long grown = heapAtEnd - heapAtStart;
      System.out.printf("soak: %d s, %d events acknowledged and delivered to every subscriber,"
          + " heap after GC %d -> %d bytes%n", seconds, total, heapAtStart, heapAtEnd);
      assertTrue(grown < 48L * 1024 * 1024, "heap grew by " + grown + " bytes");
    }
  }

  private static Void produce(OpsTestServer server, String id, List<Integer> acked,
      AtomicBoolean producing) throws Exception {
    long seq = 0;
    long next = System.nanoTime();
    while (producing.get()) {
      HttpResponse<String> r = server.send(HttpRequest.newBuilder(
              URI.create(server.streamUrl(id))).header("Content-Type", "application/json")
          .header("Producer-Id", "soak").header("Producer-Epoch", "0")
          .header("Producer-Seq", Long.toString(seq))
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"type\":\"message.delta\",\"data\":{\"id\":\"m\",\"text\":\"t\",\"n\":"
                  + seq + "}}")));
      if (r.statusCode() == 200 || r.statusCode() == 204) {
        acked.add((int) seq);
        seq++;
      } else {
        assertTrue(r.statusCode() == 429 || r.statusCode() == 503, r.statusCode() + " " + r.body());
      }
      next += TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS);
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait); // pacing the steady rate
      }
    }
    return null;
  }

  /** Joins, reads for a while, leaves, pauses, rejoins after the last offset it saw. */
  private static List<Integer> webSocketChain(OpsTestServer server, String id,
      List<Integer> acked, AtomicBoolean producing, AtomicBoolean subscribing) throws Exception {
    List<Integer> seen = new ArrayList<>();
    String after = "-1";
    int round = 0;
    while (true) {
      boolean last = !producing.get();
      WsReader reader = WsReader.open(server.wsUrl(id), after, "soak-ws-" + round++);
      if (last) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (seen.size() + reader.count() < acked.size() && System.nanoTime() < deadline
            && !reader.closed) {
          Thread.onSpinWait();
        }
        last = !reader.closed; // a socket closed under it: resume on a new one
      } else {
        TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(1000, 4000));
      }
      reader.close();
      seen.addAll(reader.snapshot());
      assertEquals(List.of(), reader.errors);
      if (reader.lastOffset != null) {
        after = reader.lastOffset;
      }
      if (last) {
        return seen;
      }
      TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(200, 1500));
    }
  }

  /** A long-poll reader that stops polling for a while now and then. */
  private static List<Integer> longPollChain(OpsTestServer server, String id,
      List<Integer> acked, AtomicBoolean producing, AtomicBoolean subscribing) throws Exception {
    List<Integer> seen = new ArrayList<>();
    String offset = "-1";
    long deadline = Long.MAX_VALUE;
    while (true) {
      if (!producing.get() && deadline == Long.MAX_VALUE) {
        deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      }
      if (deadline != Long.MAX_VALUE
          && (seen.size() >= acked.size() || System.nanoTime() > deadline)) {
        return seen;
      }
      HttpResponse<String> page = server.get("/v1/stream/" + id + "?offset=" + offset
          + (offset.equals("-1") ? "" : "&live=long-poll"));
      if (page.statusCode() == 200) {
        Matcher m = N.matcher(page.body());
        while (m.find()) {
          seen.add(Integer.parseInt(m.group(1)));
        }
      } else {
        assertTrue(page.statusCode() == 204 || page.statusCode() == 503, page.body());
      }
      offset = page.headers().firstValue("Stream-Next-Offset").orElse(offset);
      if (ThreadLocalRandom.current().nextInt(20) == 0 && producing.get()) {
        TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(500, 2000));
      }
    }
  }
}
