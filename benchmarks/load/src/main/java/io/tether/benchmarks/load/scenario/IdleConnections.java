package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.LiveMode;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.DeliverySink;
import io.tether.benchmarks.load.measure.JvmHeap;
import io.tether.benchmarks.load.measure.LiveHeap;
import io.tether.benchmarks.load.measure.KernelCounters;
import io.tether.benchmarks.load.measure.ProcessFiles;
import io.tether.benchmarks.load.measure.ProcessMemory;
import io.tether.benchmarks.load.measure.RateTimeline;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Scenario 5, connections: opens {@code connections} idle live subscribers spread over
 * {@code streams} streams and holds them. Reports how many the server held (and, from
 * {@code /proc/<pid>/fd}, that it really holds one descriptor for each) and its resident memory
 * per held connection (RSS while holding minus RSS before, divided by the count), read from
 * {@code /proc/<pid>/status}.
 *
 * <p>The figure is idle session WebSockets, so the subscribers use Tether's session
 * WebSocket by default ({@code --live} overrides it); a target without one (the peer) holds idle
 * SSE readers instead, the comparable connection it has, and its results say so. Every
 * WebSocket is a different device, so each attach also makes the session write a
 * {@code presence.joined} event that its other subscribers receive.
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
    return "5. Idle live connections (" + p.connections + " " + p.live + " subscribers"
        + LiveGroup.fallback(p.live) + ")";
  }

  @Override
  public Object params() {
    return p;
  }

  /** How long attaching may take: generous, since a busy machine connects slowly. */
  private int attachSeconds() {
    return 180 + p.connections / 50;
  }

  @Override
  public int maxSeconds() {
    return attachSeconds() + p.holdSeconds + 300;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    LiveMode mode = LiveMode.parse(p.live);
    LiveMode used = ctx.live(mode);
    r.note(ctx.liveNote(mode));
    OptionalLong ownLimit = ProcessFiles.limit(ProcessFiles.self());
    if (ownLimit.isPresent() && ownLimit.getAsLong() < p.connections + 1000L) {
      r.note("the load generator may open only " + ownLimit.getAsLong() + " files (ulimit -n), "
          + "fewer than the " + p.connections + " sockets plus a margin this scenario needs");
    }
    Bulk.Outcome created = Bulk.run(p.streams, 16, 60,
        i -> ctx.client().create(ctx.stream(id(), i), StreamClient.JSON));
    if (created.failed() > 0) {
      return r.build("failed: streams not created (" + created.lastFailure() + ")");
    }
    Thread.sleep(1000);
    OptionalLong pid = ctx.target().pid();
    OptionalLong before = ProcessMemory.rssBytes(pid);
    OptionalLong filesBefore = ProcessFiles.open(pid);
    OptionalLong threadsBefore = ProcessMemory.threads(pid);
    Optional<LiveHeap> heapBefore = ctx.heap().get();
    OptionalLong overflowsBefore = KernelCounters.listenOverflows();
    DeliverySink sink = new DeliverySink(new RateTimeline(1));
    LiveGroup group = LiveGroup.open(ctx, mode, p.connections, p.connectConcurrency,
        attachSeconds(), i -> ctx.stream(id(), i % p.streams), sink);
    Log.info(id() + ": " + group.attached() + "/" + p.connections + " " + used.wire()
        + " held after " + String.format("%.1f s", group.attachSeconds()));
    OptionalLong overflowsAfter = KernelCounters.listenOverflows();
    long endedBeforeHold = group.finished();
    Thread.sleep(p.holdSeconds * 1000L);
    OptionalLong during = ProcessMemory.rssBytes(pid);
    OptionalLong filesDuring = ProcessFiles.open(pid);
    OptionalLong threadsDuring = ProcessMemory.threads(pid);
    Optional<LiveHeap> heapDuring = ctx.heap().get();
    Optional<String> histogram = JvmHeap.histogram(pid);
    long stillOpen = group.attached() - (group.finished() - endedBeforeHold);
    r.metric("connections held", group.attached(), "", Better.HIGHER);
    if (used == LiveMode.WS) {
      r.metric("WebSocket connections held", group.attached(), "", Better.HIGHER);
    }
    r.metric("connections refused or failed", group.failedToAttach(), "", Better.LOWER);
    r.metric("connections still open after the hold", stillOpen, "", Better.HIGHER);
    r.metric("reconnects (attach and hold)", group.reconnects(), "", Better.LOWER);
    r.metric("time to attach all", group.attachSeconds(), "s", Better.LOWER);
    if (before.isPresent() && during.isPresent()) {
      r.metric("server RSS before", before.getAsLong() / 1e6, "MB", Better.NEITHER);
      r.metric("server RSS holding", during.getAsLong() / 1e6, "MB", Better.LOWER);
      if (group.attached() > 0) {
        r.metric("server RSS per connection",
            (double) (during.getAsLong() - before.getAsLong()) / group.attached(), "bytes",
            Better.LOWER);
      }
    } else {
      r.note("server pid unknown: no memory figures");
    }
    MemoryFigures.liveHeap(r, heapBefore, heapDuring, group.attached(), "connection");
    if (histogram.isPresent()) {
      Path file = ctx.logs().resolve("connections-heap-histogram-" + ctx.target().name() + ".txt");
      Files.writeString(file, histogram.get());
      r.note("largest live classes while holding (jcmd GC.class_histogram, in full in logs/"
          + file.getFileName() + "): " + String.join("; ", JvmHeap.top(histogram.get(), 8)));
    }
    if (overflowsBefore.isPresent() && overflowsAfter.isPresent()) {
      r.metric("listen-queue overflows while attaching (kernel, machine-wide)",
          overflowsAfter.getAsLong() - overflowsBefore.getAsLong(), "", Better.LOWER);
    }
    if (threadsBefore.isPresent() && threadsDuring.isPresent()) {
      r.metric("server threads before", threadsBefore.getAsLong(), "", Better.NEITHER);
      r.metric("server threads holding", threadsDuring.getAsLong(), "", Better.NEITHER);
    }
    if (filesBefore.isPresent() && filesDuring.isPresent()) {
      r.metric("server open files before", filesBefore.getAsLong(), "", Better.NEITHER);
      r.metric("server open files holding", filesDuring.getAsLong(), "", Better.NEITHER);
    }
    ProcessFiles.limit(pid).ifPresent(limit -> r.metric("server open-files limit",
        limit == Long.MAX_VALUE ? -1 : limit, "", Better.NEITHER));
    ProcessMemory.rssBytes(ProcessFiles.self()).ifPresent(rss ->
        r.metric("load generator RSS holding", rss / 1e6, "MB", Better.NEITHER));
    ownLimit.ifPresent(limit -> r.metric("load generator open-files limit",
        limit == Long.MAX_VALUE ? -1 : limit, "", Better.NEITHER));
    if (used == LiveMode.WS) {
      r.metric("WebSocket error frames", group.errorFrames(), "", Better.LOWER);
      r.metric("session-written events received (presence)", group.eventsWithoutTimestamp(), "",
          Better.NEITHER);
      r.note("each WebSocket is its own device: attaching makes the session write a "
          + "presence.joined event, which its other subscribers receive (counted above)");
    }
    if (group.failedToAttach() > 0 || group.failures() > 0) {
      r.note("last subscriber failure: " + group.lastFailure());
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
