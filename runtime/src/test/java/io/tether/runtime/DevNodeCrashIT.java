package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Kills a {@code tether dev} node with SIGKILL while several producers append to one stream over
 * HTTP, starts it again on the same home, and reads the stream back from offset -1: every
 * acknowledged record must be there exactly once and in each producer's order, and no record
 * may appear half-written.
 */
class DevNodeCrashIT {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();
  private static final int PRODUCERS = 4;

  @Test
  void everyAcknowledgedAppendSurvivesSigkillOfTheNode() throws Exception {
    Path home = Path.of(System.getProperty("tether.test.work-dir"), "dev-crash-" + System.nanoTime());
    int port = DevProcess.freeHttpPort();
    try (DevProcess node = new DevProcess(home, port).start(Duration.ofMinutes(3))) {
      String stream = node.baseUrl() + "/v1/stream/crash-test";
      HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(stream))
          .header("Content-Type", "text/plain")
          .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode(), created.body());

      Map<Integer, List<Integer>> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch enoughAcked = new CountDownLatch(PRODUCERS * 50);
      List<Thread> producers = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        int producer = p;
        acked.put(producer, Collections.synchronizedList(new ArrayList<>()));
        Thread t = new Thread(() -> produce(stream, producer, acked.get(producer), stop, enoughAcked));
        t.start();
        producers.add(t);
      }
      assertTrue(enoughAcked.await(60, java.util.concurrent.TimeUnit.SECONDS),
          "producers were not acknowledged; node log:\n" + node.tail());

      node.kill();
      stop.set(true);
      for (Thread t : producers) {
        t.join(30_000);
      }

      node.start(Duration.ofMinutes(3));
      String content = readAll(stream);

      Map<Integer, List<Integer>> seen = new HashMap<>();
      for (String line : content.split("\n", -1)) {
        if (line.isEmpty()) {
          continue;
        }
        assertTrue(line.matches("p\\d+-\\d+-[x]{64}"), "a record was half-written: " + line);
        String[] parts = line.split("-");
        seen.computeIfAbsent(Integer.parseInt(parts[0].substring(1)), k -> new ArrayList<>())
            .add(Integer.parseInt(parts[1]));
      }
      for (int p = 0; p < PRODUCERS; p++) {
        List<Integer> mine = seen.getOrDefault(p, List.of());
        for (int i = 1; i < mine.size(); i++) {
          assertEquals(mine.get(i - 1) + 1, mine.get(i), "producer " + p + " has a gap or duplicate");
        }
        List<Integer> ackedByProducer = acked.get(p);
        int lastAcked = ackedByProducer.isEmpty() ? -1 : ackedByProducer.get(ackedByProducer.size() - 1);
        assertTrue(mine.size() >= lastAcked + 1,
            "producer " + p + " lost acknowledged records: acked up to " + lastAcked + ", read " + mine.size());
        assertEquals(0, mine.isEmpty() ? 0 : mine.get(0), "producer " + p + " starts at 0");
      }
    }
  }

  /** Appends records p{producer}-{n}-xxxx... one per request, in order, until stopped or failing. */
  private static void produce(String stream, int producer, List<Integer> acked, AtomicBoolean stop,
      CountDownLatch progress) {
    String pad = "x".repeat(64);
    for (int n = 0; !stop.get(); n++) {
      String record = "p" + producer + "-" + n + "-" + pad + "\n";
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(stream))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString(record, StandardCharsets.UTF_8)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
          return;
        }
        acked.add(n);
        progress.countDown();
      } catch (Exception connectionLost) {
        return;
      }
    }
  }

  private static String readAll(String stream) throws Exception {
    StringBuilder out = new StringBuilder();
    String offset = "-1";
    for (int guard = 0; guard < 10_000; guard++) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(stream + "?offset=" + offset))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      out.append(r.body());
      offset = r.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (r.headers().firstValue("Stream-Up-To-Date").map("true"::equals).orElse(false)) {
        return out.toString();
      }
    }
    throw new AssertionError("the stream never reported Stream-Up-To-Date");
  }
}
