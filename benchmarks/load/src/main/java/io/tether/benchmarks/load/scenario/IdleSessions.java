package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.measure.LiveHeap;
import io.tether.benchmarks.load.measure.ProcessMemory;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Scenario 6, sessions, measured from outside: creates {@code streams} streams with one event
 * each and reports the server's resident memory per stream (RSS delta divided by the count)
 * and the creation rate. Then, after {@code idleSeconds} without traffic, times the first
 * catch-up read of a sample of them (for Tether this includes recovering the entity if it was
 * passivated) and a second, warm read of the same streams.
 */
public final class IdleSessions implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(int streams, int concurrency, int settleSeconds, int idleSeconds,
      int sampleReads) {}

  private final Params p;

  public IdleSessions(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(5_000, 32, 3, 10, 300);
  }

  public static Params quick() {
    return new Params(1_000, 32, 2, 3, 100);
  }

  @Override
  public String id() {
    return "sessions";
  }

  @Override
  public String title() {
    return "6. Idle sessions (" + p.streams + " streams with one event each)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return p.settleSeconds + p.idleSeconds + 600;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    OptionalLong before = ProcessMemory.rssBytes(ctx.target().pid());
    Optional<LiveHeap> heapBefore = ctx.heap().get();
    byte[] event = Payloads.smallEvent(0, 0, 100).getBytes(StandardCharsets.UTF_8);
    LongAdder retried = new LongAdder();
    Bulk.Outcome created = Bulk.run(p.streams, p.concurrency, 300, i -> {
      String stream = ctx.stream(id(), i);
      return ctx.client().create(stream, StreamClient.JSON)
          .thenCompose(w -> w.ok() ? ctx.client().append(stream, StreamClient.JSON, event)
              : CompletableFuture.completedFuture(w))
          .thenCompose(w -> {
            if (w.status() != 404) {
              return CompletableFuture.completedFuture(w);
            }
            // A 404 right after a 201 is not a missing stream: the peer's store answers so when it
            // evicted the new stream's file handle before the fdatasync (with the store's default
            // of 100 handles, see server.mjs). Retry it once, and count it.
            retried.increment();
            return CompletableFuture.supplyAsync(() -> null,
                    CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
                .thenCompose(x -> ctx.client().append(stream, StreamClient.JSON, event));
          });
    });
    Log.info(id() + String.format(": %d streams created in %.1f s (%d failed)", created.ok(),
        created.seconds(), created.failed()));
    r.metric("streams created/s (PUT + first append)", created.ok() / created.seconds(), "/s",
        Better.HIGHER);
    r.metric("stream creation failures", created.failed(), "", Better.LOWER);
    r.metric("first appends retried after 404", retried.sum(), "", Better.LOWER);
    if (created.failed() > 0) {
      r.note("last creation failure: " + created.lastFailure());
    }
    if (created.ok() == 0) {
      return r.build("failed: no stream created (" + created.lastFailure() + ")");
    }
    Thread.sleep(p.settleSeconds * 1000L);
    OptionalLong after = ProcessMemory.rssBytes(ctx.target().pid());
    OptionalLong footprint = ProcessMemory.rssWithChildren(ctx.target().pid());
    if (footprint.isPresent()) {
      r.metric("server RSS incl. processes it started", footprint.getAsLong() / 1e6, "MB",
          Better.LOWER);
    }
    if (before.isPresent() && after.isPresent()) {
      r.metric("server RSS after", after.getAsLong() / 1e6, "MB", Better.LOWER);
      r.metric("server RSS per idle stream",
          (double) (after.getAsLong() - before.getAsLong()) / created.ok(), "bytes", Better.LOWER);
    } else {
      r.note("server pid unknown: no memory figures");
    }
    MemoryFigures.liveHeap(r, heapBefore, ctx.heap().get(), created.ok(), "idle stream");

    Thread.sleep(p.idleSeconds * 1000L);
    Histogram cold = Latencies.newHistogram();
    Histogram warm = Latencies.newHistogram();
    int sample = Math.min(p.sampleReads, created.ok());
    int step = Math.max(1, p.streams / sample);
    int errors = 0;
    for (Histogram h : new Histogram[] {cold, warm}) {
      for (int s = 0; s < sample; s++) {
        long began = System.nanoTime();
        StreamClient.Page page = ctx.client().read(ctx.stream(id(), s * step), "-1");
        if (page.status() == 200) {
          Latencies.record(h, began, System.nanoTime());
        } else {
          errors++;
        }
      }
    }
    r.latency("first read after " + p.idleSeconds + " s idle", cold);
    r.latency("second read", warm);
    r.metric("read errors", errors, "", Better.LOWER);
    r.note("recovery of a passivated session is observed from outside as the first read after "
        + "idling; whether the server passivated within " + p.idleSeconds
        + " s is its own setting (the recovery scenario forces recovery by restarting)");
    return r.build("ok");
  }

}
