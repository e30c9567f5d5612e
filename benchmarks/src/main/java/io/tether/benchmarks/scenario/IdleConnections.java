package io.tether.benchmarks.scenario;

import io.tether.benchmarks.Log;
import io.tether.benchmarks.client.StreamClient;
import io.tether.benchmarks.measure.DeliverySink;
import io.tether.benchmarks.measure.ProcessMemory;
import io.tether.benchmarks.measure.RateTimeline;
import io.tether.benchmarks.result.Metric.Better;
import io.tether.benchmarks.result.ScenarioResult;
import java.util.OptionalLong;

/**
 * Scenario 5, connections: opens {@code connections} idle live subscribers spread over
 * {@code streams} streams and holds them. Reports how many the server held and its resident
 * memory per held connection (RSS after minus RSS before, divided by the count), read from
 * {@code /proc/<pid>/status}. The WebSocket of the issue does not exist yet; live HTTP readers
 * (SSE by default) are the connection kind both servers have.
 */
public final class IdleConnections implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(int connections, int streams, int connectConcurrency, int holdSeconds,
      String live) {}

  private final Params p;

  public IdleConnections(Params params) {
    this.p = params;
  }

  public static Params full(String live) {
    return new Params(10_000, 100, 200, 5, live);
  }

  public static Params quick(String live) {
    return new Params(1_000, 10, 100, 2, live);
  }

  @Override
  public String id() {
    return "connections";
  }

  @Override
  public String title() {
    return "5. Idle live connections (" + p.connections + " " + p.live + " subscribers)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return p.holdSeconds + 300;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    Bulk.Outcome created = Bulk.run(p.streams, 16, 60,
        i -> ctx.client().create(ctx.stream(id(), i), StreamClient.JSON));
    if (created.failed() > 0) {
      return r.build("failed: streams not created (" + created.lastFailure() + ")");
    }
    Thread.sleep(1000);
    OptionalLong before = ProcessMemory.rssBytes(ctx.target().pid());
    DeliverySink sink = new DeliverySink(new RateTimeline(1));
    LiveGroup group = LiveGroup.open(ctx, p.connections, p.connectConcurrency, 180,
        i -> ctx.stream(id(), i % p.streams), sink);
    Log.info(id() + ": " + group.attached() + "/" + p.connections + " held after "
        + String.format("%.1f s", group.attachSeconds()));
    Thread.sleep(p.holdSeconds * 1000L);
    OptionalLong during = ProcessMemory.rssBytes(ctx.target().pid());
    r.metric("connections held", group.attached(), "", Better.HIGHER);
    r.metric("connections refused or failed", group.failedToAttach(), "", Better.LOWER);
    r.metric("time to attach all", group.attachSeconds(), "s", Better.LOWER);
    if (before.isPresent() && during.isPresent()) {
      r.metric("server RSS before", before.getAsLong() / 1e6, "MB", Better.NEITHER);
      r.metric("server RSS holding", during.getAsLong() / 1e6, "MB", Better.LOWER);
      if (group.attached() > 0) {
        r.metric("server memory per connection",
            (double) (during.getAsLong() - before.getAsLong()) / group.attached(), "bytes",
            Better.LOWER);
      }
    } else {
      r.note("server pid unknown: no memory figures");
    }
    long releasing = System.nanoTime();
    Bulk.run(p.streams, 16, 30, i -> ctx.client().close(ctx.stream(id(), i)));
    long open = group.stop(10);
    Log.info(id() + String.format(": released in %.1f s (%d still open)",
        (System.nanoTime() - releasing) / 1e9, open));
    r.note("RSS of the server process only; for Tether that is the node's JVM (Cassandra runs in "
        + "its own process), whose RSS also holds heap not yet collected");
    return r.build("ok");
  }
}
