package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.client.WsReplay;
import io.tether.benchmarks.load.measure.CpuMeter;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.targets.Target;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Scenario 6c, one long session: {@code messages} assistant messages of
 * {@code eventsPerMessage} events each ({@code message.start}, deltas, {@code message.end}),
 * appended in order in JSON batches of {@code appendBatch}, one request at a time. Then the
 * ways a page opens it: an HTTP catch-up from {@code -1}, and on a target with the session
 * WebSocket a resume from {@code -1} at delta and at message granularity (time to
 * {@code up-to-date}). Finally, for a target the run started, a restart and the first request
 * to the session after it (a read at its tail, which a server that recovers sessions on demand
 * pays for), then a full catch-up. Issue 13's targets read the WebSocket-to-HTTP ratios and the
 * first request after the restart.
 */
public final class LongSession implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(int messages, int eventsPerMessage, int appendBatch, int repetitions) {}

  private static final byte[] ITEM = "{\"type\":\"message.".getBytes(StandardCharsets.UTF_8);

  private final Params p;

  public LongSession(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(200, 1000, 500, 3);
  }

  public static Params quick() {
    return new Params(20, 1000, 500, 2);
  }

  @Override
  public String id() {
    return "long-session";
  }

  @Override
  public String title() {
    return "6c. One long session (" + p.messages + " messages x " + p.eventsPerMessage
        + " events: append, HTTP catch-up, WebSocket resume, first request after a restart)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return 900;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    try {
      return measure(ctx, r);
    } catch (IllegalStateException e) {
      return r.build("failed: " + e.getMessage());
    }
  }

  private ScenarioResult measure(ScenarioContext ctx, ScenarioResult.Builder r) throws Exception {
    CpuMeter.Snapshot cpuStart = CpuMeter.snapshot(ctx.target().pid());
    String stream = ctx.stream(id(), 0);
    StreamClient client = ctx.client().withTimeout(Duration.ofMinutes(2));
    if (!client.create(stream, StreamClient.JSON).get().ok()) {
      return r.build("failed: could not create " + stream);
    }
    long events = (long) p.messages * p.eventsPerMessage;
    List<String> batch = new ArrayList<>(p.appendBatch);
    long began = System.nanoTime();
    for (int m = 0; m < p.messages; m++) {
      for (int e = 0; e < p.eventsPerMessage; e++) {
        batch.add(event(m, e));
        if (batch.size() == p.appendBatch) {
          append(client, stream, batch);
        }
      }
    }
    append(client, stream, batch);
    double appendSeconds = (System.nanoTime() - began) / 1e9;
    r.metric("append all events, in batches of " + p.appendBatch, appendSeconds, "s",
        Better.LOWER);
    r.metric("append rate", events / appendSeconds, "events/s", Better.HIGHER);

    double[] http = new double[p.repetitions];
    String tail = null;
    for (int i = 0; i < p.repetitions; i++) {
      CatchUpRead read = catchUp(client, stream, "-1");
      http[i] = read.millis;
      tail = read.nextOffset;
      check(read.items == events, "HTTP catch-up read " + read.items + " of " + events);
    }
    double httpMs = median(http);
    r.metric("HTTP catch-up from -1 (median)", httpMs, "ms", Better.LOWER);
    Log.info(id() + String.format(Locale.ROOT, ": %d events appended in %.1f s, HTTP catch-up "
        + "%.0f ms", events, appendSeconds, httpMs));

    if (ctx.noSessionSocket() == null) {
      for (String granularity : List.of("delta", "message")) {
        double[] ws = new double[p.repetitions];
        long frames = 0;
        for (int i = 0; i < p.repetitions; i++) {
          WsReplay.Outcome o = WsReplay.fromStart(ctx.liveClient(i),
              client.sessionSocketUri(stream), granularity,
              "bench-long-" + granularity + "-" + i, Duration.ofMinutes(3));
          ws[i] = o.millis();
          frames = o.events();
        }
        double wsMs = median(ws);
        r.metric("WebSocket resume from -1, " + granularity + " granularity (median)", wsMs, "ms",
            Better.LOWER);
        r.metric("WebSocket resume / HTTP catch-up, " + granularity + " granularity",
            wsMs / httpMs, "", Better.LOWER);
        r.note("WebSocket resume at " + granularity + " granularity: " + frames
            + " event frames before up-to-date");
        Log.info(id() + String.format(Locale.ROOT, ": WebSocket resume (%s) %.0f ms, %d frames",
            granularity, wsMs, frames));
      }
    } else {
      r.note("no session WebSocket on this target (" + ctx.noSessionSocket() + ")");
    }

    if (ctx.restarter() == null) {
      r.note("not restarted: the run did not start this target");
      return r.build("ok");
    }
    CpuFigures.add(r, CpuMeter.between(cpuStart, CpuMeter.snapshot(ctx.target().pid())));
    r.note("cpu figures cover the append and the reads before the restart");
    Target restarted = ctx.restarter().restart();
    long first = System.nanoTime();
    StreamClient.Page page = client.read(stream, tail);
    double firstMs = (System.nanoTime() - first) / 1e6;
    r.metric("first request after a restart (read at the tail)", firstMs, "ms", Better.LOWER);
    int refused = 0;
    long deadline = first + 60_000_000_000L;
    while (page.status() != 200 && System.nanoTime() < deadline) {
      if (refused == 0) {
        r.note("the first request after the restart answered HTTP " + page.status() + " ("
            + new String(page.body(), StandardCharsets.UTF_8).strip()
            + "); the client retried every 100 ms until a 200");
      }
      refused++;
      Thread.sleep(100);
      page = client.read(stream, tail);
    }
    r.metric("answers other than 200 before the first read after a restart", refused, "",
        Better.LOWER);
    r.metric("first successful read after a restart (read at the tail)",
        (System.nanoTime() - first) / 1e6, "ms", Better.LOWER);
    check(page.status() == 200, "reads after the restart answered " + page.status()
        + " for 60 s");
    CatchUpRead after = catchUp(client, stream, "-1");
    check(after.items == events, "catch-up after the restart read " + after.items);
    r.metric("first HTTP catch-up from -1 after a restart", after.millis, "ms", Better.LOWER);
    Log.info(id() + String.format(Locale.ROOT, ": after a restart (pid %s): first request "
        + "%.0f ms, catch-up %.0f ms", restarted.pid(), firstMs, after.millis));
    return r.build("ok");
  }

  /** The {@code e}-th event of message {@code m}: its start, a delta, or its end. */
  private String event(int m, int e) {
    String id = "\"id\":\"m-" + m + "\"";
    if (e == 0) {
      return "{\"type\":\"message.start\",\"producer\":\"bench\",\"data\":{" + id
          + ",\"role\":\"assistant\",\"text\":\"\"}}";
    }
    if (e == p.eventsPerMessage - 1) {
      return "{\"type\":\"message.end\",\"producer\":\"bench\",\"data\":{" + id
          + ",\"status\":\"complete\"}}";
    }
    return "{\"type\":\"message.delta\",\"producer\":\"bench\",\"data\":{" + id
        + ",\"text\":\"token " + e + " \"}}";
  }

  private static void append(StreamClient client, String stream, List<String> batch)
      throws Exception {
    if (batch.isEmpty()) {
      return;
    }
    StreamClient.Written w = client.append(stream, StreamClient.JSON,
        io.tether.benchmarks.load.client.Payloads.jsonArray(batch)).get();
    check(w.ok(), "append answered " + w.failure());
    batch.clear();
  }

  private record CatchUpRead(long items, double millis, String nextOffset) {}

  private static CatchUpRead catchUp(StreamClient client, String stream, String from)
      throws Exception {
    long began = System.nanoTime();
    String offset = from;
    long items = 0;
    while (true) {
      StreamClient.Page page = client.read(stream, offset);
      check(page.status() == 200, "catch-up read answered HTTP " + page.status());
      items += count(page.body());
      String next = page.nextOffset();
      if (page.upToDate() || next == null || next.equals(offset)) {
        return new CatchUpRead(items, (System.nanoTime() - began) / 1e6,
            next == null ? offset : next);
      }
      offset = next;
    }
  }

  /** The items in a JSON read body: every one starts {@code {"type":"message.}. */
  static long count(byte[] body) {
    long n = 0;
    outer:
    for (int i = 0; i <= body.length - ITEM.length; i++) {
      for (int j = 0; j < ITEM.length; j++) {
        if (body[i + j] != ITEM[j]) {
          continue outer;
        }
      }
      n++;
      i += ITEM.length - 1;
    }
    return n;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }
}
