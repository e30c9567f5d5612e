package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.client.TimestampScanner;
import io.tether.benchmarks.load.measure.CpuMeter;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Scenario 6b, recovery: fills {@code streams} streams with {@code eventsPerStream} events,
 * restarts the server on the same data, and times the first full read of each stream (nothing is
 * in memory: for Tether every session recovers from its snapshot and journal, as a passivated
 * one does) against a second read of the same streams. Restarting is possible only for targets
 * this run started.
 */
public final class Recovery implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(int streams, int eventsPerStream, int eventBytes, int fillBatch) {}

  private final Params p;

  public Recovery(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(20, 2000, 100, 500);
  }

  public static Params quick() {
    return new Params(10, 1000, 100, 500);
  }

  @Override
  public String id() {
    return "recovery";
  }

  @Override
  public String title() {
    return "6b. Session recovery after a server restart (" + p.streams + " streams x "
        + p.eventsPerStream + " events)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return 1200;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    if (ctx.restarter() == null) {
      return r.build("skipped: the run did not start this target, so it cannot restart it");
    }
    Bulk.Outcome created = Bulk.run(p.streams, 16, 60,
        i -> ctx.client().create(ctx.stream(id(), i), StreamClient.JSON));
    if (created.failed() > 0) {
      return r.build("failed: streams not created (" + created.lastFailure() + ")");
    }
    int late = Visibility.await(ctx.client(), p.streams, i -> ctx.stream(id(), i));
    if (late > 0) {
      r.note(late + " new streams answered 404 for a moment after their 201");
    }
    int batchesPerStream = (p.eventsPerStream + p.fillBatch - 1) / p.fillBatch;
    Bulk.Outcome filled = Bulk.run(p.streams * batchesPerStream, 8, 300, b -> {
      List<String> batch = new ArrayList<>(p.fillBatch);
      for (int i = 0; i < p.fillBatch; i++) {
        batch.add(Payloads.smallEvent(i, 0, p.eventBytes));
      }
      return ctx.client().append(ctx.stream(id(), b % p.streams), StreamClient.JSON,
          Payloads.jsonArray(batch));
    });
    if (filled.failed() > 0) {
      return r.build("failed: streams not filled (" + filled.lastFailure() + ")");
    }
    long restarting = System.nanoTime();
    io.tether.benchmarks.load.targets.Target restarted = ctx.restarter().restart();
    double restartSeconds = (System.nanoTime() - restarting) / 1e9;
    Log.info(id() + String.format(": restarted in %.1f s", restartSeconds));
    r.metric("restart (stop + start until ready)", restartSeconds, "s", Better.LOWER);

    CpuMeter.Snapshot reading = CpuMeter.snapshot(restarted.pid());
    Histogram first = Latencies.newHistogram();
    Histogram second = Latencies.newHistogram();
    int wrong = 0;
    int expected = batchesPerStream * p.fillBatch;
    for (Histogram h : new Histogram[] {first, second}) {
      for (int s = 0; s < p.streams; s++) {
        long began = System.nanoTime();
        long counted = readAll(ctx.client(), ctx.stream(id(), s));
        Latencies.record(h, began, System.nanoTime());
        if (counted != expected) {
          wrong++;
        }
      }
    }
    r.latency("first full read after restart", first);
    r.latency("second full read", second);
    r.metric("reads with a wrong event count", wrong, "", Better.LOWER);
    CpuFigures.add(r, CpuMeter.between(reading, CpuMeter.snapshot(restarted.pid())));
    r.note("cpu figures cover the reads after the restart");
    r.note("restart time includes the server's whole start (for Tether: its local Cassandra)");
    return r.build(wrong == 0 ? "ok" : "failed: " + wrong + " reads returned a wrong count");
  }

  private static long readAll(StreamClient client, String stream) throws Exception {
    String offset = "-1";
    long counted = 0;
    while (true) {
      StreamClient.Page page = client.read(stream, offset);
      if (page.status() != 200) {
        return -page.status();
      }
      counted += TimestampScanner.scan(page.body(), t -> { });
      if (page.upToDate() || page.nextOffset() == null || page.nextOffset().equals(offset)) {
        return counted;
      }
      offset = page.nextOffset();
    }
  }
}
