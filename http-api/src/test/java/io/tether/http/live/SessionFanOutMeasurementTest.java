package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tether.http.auth.Capability;
import io.tether.http.auth.Grant;
import io.tether.http.auth.Quotas;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Measures (does not assert) a session taking 1,000 token deltas a second, one delta per
 * publish frame as a model streams them, with 10 WebSocket subscribers, on the real local
 * Cassandra: journal writes per second (from the journal position before and after) and the
 * delivery latency from publish to each subscriber's socket. Prints one summary line; asserts
 * only that every subscriber received every delta. Length: {@code -Dtether.measure.seconds}
 * (default 10); {@code -Dtether.measure.rate} and {@code -Dtether.measure.subscribers} vary the
 * load.
 */
class SessionFanOutMeasurementTest {
  static final int RATE = Integer.getInteger("tether.measure.rate", 1000);
  static final int SUBSCRIBERS = Integer.getInteger("tether.measure.subscribers", 10);

  @Test
  void thousandDeltasPerSecondToTenSubscribers() throws Exception {
    int seconds = Integer.getInteger("tether.measure.seconds", 10);
    int total = RATE * seconds;
    try (SessionsTestServer server = SessionsTestServer.start("session_measure", "")) {
      HttpClient http = HttpClient.newHttpClient();
      String s = SessionSocketTest.newSessionOn(server);
      // An agent's token: its append rate is raised in its quotas claim, as an operator would.
      String token = server.tokens.issue("m", List.of(new Grant(
          EnumSet.allOf(Capability.class), List.of(s))), Duration.ofMinutes(30),
          new Quotas(null, null, 1_000_000, 1_000_000));
      List<long[]> latencies = new ArrayList<>();
      CountDownLatch done = new CountDownLatch(SUBSCRIBERS);
      List<WebSocket> sockets = new ArrayList<>();
      for (int i = 0; i < SUBSCRIBERS; i++) {
        long[] lat = new long[total];
        latencies.add(lat);
        WebSocket ws = http.newWebSocketBuilder()
            .header("Authorization", "Bearer " + token)
            .buildAsync(URI.create(server.wsUrl(s)), new Recorder(lat, total, done)).join();
        ws.sendText("{\"type\":\"resume\",\"after\":\"now\",\"device\":\"sub-" + i + "\"}", true)
            .join();
        sockets.add(ws);
      }
      WsClient agent = WsClient.connect(http, server.wsUrl(s), token);
      agent.send("{\"type\":\"resume\",\"after\":\"now\",\"device\":\"agent\",\"kind\":\"agent\"}");
      agent.await("up-to-date");
      agent.send(SessionSocketTest.publish("start", SessionSocketTest.event("run.start", "r1")));
      agent.await(f -> f.path("id").asText().equals("start"), null);
      long positionBefore = position(http, server, s, token);

      long start = System.nanoTime();
      long interval = TimeUnit.SECONDS.toNanos(1) / RATE;
      for (int i = 0; i < total; i++) {
        long due = start + i * interval;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        agent.send("{\"type\":\"publish\",\"id\":\"d" + i + "\",\"events\":[{\"type\":"
            + "\"message.delta\",\"run\":\"r1\",\"data\":{\"id\":\"m\",\"i\":" + i + ",\"sent\":"
            + System.nanoTime() + ",\"text\":\"tok \"}}]}");
      }
      long sendSeconds = System.nanoTime() - start;
      boolean all = done.await(120, TimeUnit.SECONDS);
      long positionAfter = position(http, server, s, token);
      sockets.forEach(ws -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
      agent.close();

      long[] merged = latencies.stream().flatMapToLong(Arrays::stream).filter(v -> v > 0)
          .sorted().toArray();
      long writes = positionAfter - positionBefore;
      double elapsed = sendSeconds / 1e9;
      System.out.printf("SESSION-FANOUT rate=%d/s subscribers=%d deltas=%d sent-in=%.2fs "
              + "journal-writes=%d (%.1f/s, %.1f deltas/write) latency-ms p50=%.2f p95=%.2f "
              + "p99=%.2f max=%.2f samples=%d%n", RATE, SUBSCRIBERS, total, elapsed, writes,
          writes / elapsed, (double) total / Math.max(1, writes), pct(merged, 50),
          pct(merged, 95), pct(merged, 99), merged[merged.length - 1] / 1e6, merged.length);
      assertEquals(true, all, "every subscriber received every delta");
      assertEquals((long) total * SUBSCRIBERS, merged.length);
    }
  }

  private static double pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) ((long) sorted.length * p / 100))] / 1e6;
  }

  /** The journal position of the session's tail: one per persisted event. */
  private static long position(HttpClient http, SessionsTestServer server, String s,
      String token) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create(server.baseUrl() + "/v1/sessions/" + s))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    String tail = WsClient.JSON.readTree(r.body()).path("tail").asText();
    return Long.parseLong(tail.substring(0, 16));
  }

  /** Records publish-to-socket latency of each delta by its index; counts the deltas seen. */
  private static final class Recorder implements WebSocket.Listener {
    private final long[] latencies;
    private final int expected;
    private final CountDownLatch done;
    private final StringBuilder partial = new StringBuilder();
    private int seen;

    Recorder(long[] latencies, int expected, CountDownLatch done) {
      this.latencies = latencies;
      this.expected = expected;
      this.done = done;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        long now = System.nanoTime();
        String frame = partial.toString();
        partial.setLength(0);
        int sent = frame.indexOf("\"sent\":");
        if (sent > 0 && frame.contains("message.delta")) {
          int i = Integer.parseInt(frame.substring(frame.indexOf("\"i\":") + 4,
              frame.indexOf(',', frame.indexOf("\"i\":"))));
          long at = Long.parseLong(frame.substring(sent + 7, frame.indexOf(',', sent)));
          latencies[i] = Math.max(1, now - at);
          if (++seen == expected) {
            done.countDown();
          }
        }
      }
      ws.request(1);
      return null;
    }
  }
}
