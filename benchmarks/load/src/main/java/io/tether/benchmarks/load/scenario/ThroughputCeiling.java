package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.ErrorTally;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.measure.RateTimeline;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scenario 2, throughput ceiling: closed-loop appenders (each sends its next append when the
 * previous one is acknowledged) with enough concurrency for group commit to batch, per case:
 * one stream or many, small JSON events or 64 KiB byte bodies. Reports acknowledged appends per
 * second, payload MB per second, and append latency inside the measurement window.
 */
public final class ThroughputCeiling implements Scenario {
  /** One load shape: {@code concurrency} appenders spread round-robin over {@code streams}. */
  public record Case(String name, int streams, int concurrency, int bodyBytes,
      String contentType) {}

  /** The parameters, recorded with the results. */
  public record Params(List<Case> cases, int warmupSeconds, int measureSeconds) {}

  private final Params p;

  public ThroughputCeiling(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(List.of(
        new Case("1 stream, 100 B", 1, 64, 100, StreamClient.JSON),
        new Case("64 streams, 100 B", 64, 64, 100, StreamClient.JSON),
        new Case("1 stream, 64 KiB", 1, 8, 65536, StreamClient.BYTES),
        new Case("16 streams, 64 KiB", 16, 16, 65536, StreamClient.BYTES)), 2, 10);
  }

  public static Params quick() {
    return new Params(List.of(
        new Case("1 stream, 100 B", 1, 32, 100, StreamClient.JSON),
        new Case("32 streams, 100 B", 32, 32, 100, StreamClient.JSON),
        new Case("1 stream, 64 KiB", 1, 4, 65536, StreamClient.BYTES),
        new Case("8 streams, 64 KiB", 8, 8, 65536, StreamClient.BYTES)), 1, 4);
  }

  @Override
  public String id() {
    return "throughput";
  }

  @Override
  public String title() {
    return "2. Throughput ceiling (closed-loop appends, " + p.measureSeconds + " s per case)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return p.cases.size() * (p.warmupSeconds + p.measureSeconds + 60);
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    int failedCases = 0;
    double bestSmall = 0;
    for (int c = 0; c < p.cases.size(); c++) {
      Case k = p.cases.get(c);
      String key = "c" + c;
      Bulk.Outcome created = Bulk.run(k.streams, 16, 60,
          i -> ctx.client().create(ctx.stream(id(), key + "-" + i), k.contentType));
      if (created.failed() > 0) {
        r.note(k.name + ": " + created.failed() + " streams not created ("
            + created.lastFailure() + ")");
        failedCases++;
        continue;
      }
      int late = Visibility.await(ctx.client(), k.streams,
          i -> ctx.stream(id(), key + "-" + i));
      if (late > 0) {
        r.note(k.name + ": " + late + " new streams answered 404 for a moment after their 201");
      }
      double rate = runCase(ctx, k, key, r);
      if (k.bodyBytes <= 1024) {
        bestSmall = Math.max(bestSmall, rate);
      }
    }
    r.metric("best small appends/s", bestSmall, "/s", Better.HIGHER);
    return r.build(failedCases == 0 ? "ok" : "failed: " + failedCases + " cases could not run");
  }

  private double runCase(ScenarioContext ctx, Case k, String key, ScenarioResult.Builder r)
      throws InterruptedException {
    int seconds = p.warmupSeconds + p.measureSeconds;
    RateTimeline acks = new RateTimeline(seconds + 1);
    Histogram latency = Latencies.newHistogram();
    ErrorTally errors = new ErrorTally();
    AtomicLong seq = new AtomicLong();
    byte[] bytes = Payloads.randomBytes(k.bodyBytes, 42);
    long start = System.nanoTime();
    long windowStart = start + TimeUnit.SECONDS.toNanos(p.warmupSeconds);
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    acks.startAt(start);
    CountDownLatch done = new CountDownLatch(k.concurrency);
    for (int w = 0; w < k.concurrency; w++) {
      String stream = ctx.stream(id(), key + "-" + (w % k.streams));
      new Object() {
        void next() {
          long sent = System.nanoTime();
          if (sent >= end) {
            done.countDown();
            return;
          }
          byte[] body = StreamClient.JSON.equals(k.contentType)
              ? Payloads.smallEvent(seq.incrementAndGet(), sent, k.bodyBytes)
                  .getBytes(StandardCharsets.UTF_8)
              : bytes;
          ctx.client().append(stream, k.contentType, body).whenComplete((wr, e) -> {
            long now = System.nanoTime();
            if (e == null && wr.ok()) {
              acks.add(now, 1);
              if (sent >= windowStart) {
                Latencies.record(latency, sent, now);
              }
            } else {
              if (e == null) {
                errors.answered(wr.failure());
              } else {
                errors.failure(e);
              }
              if (errors.total() > 1000) {
                done.countDown();
                return;
              }
            }
            next();
          });
        }
      }.next();
    }
    done.await(seconds + 60, TimeUnit.SECONDS);
    double perSecond = TokenStreaming.sum(acks.perSecond(seconds), p.warmupSeconds,
        p.measureSeconds) / p.measureSeconds;
    r.metric(k.name + ": appends/s", perSecond, "/s", Better.HIGHER);
    r.metric(k.name + ": MB/s", perSecond * k.bodyBytes / 1e6, "MB/s", Better.HIGHER);
    r.metric(k.name + ": errors", errors.total(), "", Better.LOWER);
    if (errors.total() > 0) {
      r.note(k.name + ": errors: " + errors.describe());
    }
    r.latency(k.name + ": append", latency);
    r.timeline(k.name + ": appends/s", "/s", acks.perSecond(seconds));
    Log.info(id() + ": " + k.name + String.format(": %.0f appends/s, %d errors", perSecond,
        errors.total()));
    return perSecond;
  }
}
