package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.LiveMode;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.DeliverySink;
import io.tether.benchmarks.load.measure.ErrorTally;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.measure.RateTimeline;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Scenario 1, token streaming: {@code streams} JSON streams, each written by a model-like
 * producer at {@code deltasPerSecond} small deltas a second (batched while an append is in
 * flight, see {@link TokenProducer}) and tailed live by {@code subscribersPerStream} readers.
 * Reports durable deltas acknowledged per second, deliveries per second, and append-to-subscriber
 * latency of the deltas produced inside the measurement window.
 */
public final class TokenStreaming implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(int streams, int deltasPerSecond, int subscribersPerStream,
      int warmupSeconds, int measureSeconds, int drainSeconds, String live) {}

  private final Params p;
  private final boolean ingest;

  public TokenStreaming(Params params) {
    this(params, false);
  }

  private TokenStreaming(Params params, boolean ingest) {
    this.p = params;
    this.ingest = ingest;
  }

  /**
   * Scenario 1b, the durable token ingest ceiling: the same producers, many more streams and
   * no subscribers, so the figure is the deltas a node makes durable per second when offered
   * more than it can take (the 20,000 deltas/s target).
   */
  public static TokenStreaming ingest(boolean quick, String live) {
    return new TokenStreaming(quick ? new Params(40, 100, 0, 2, 6, 5, live)
        : new Params(250, 100, 0, 3, 15, 10, live), true);
  }

  public static Params full(String live) {
    return new Params(50, 100, 2, 3, 20, 10, live);
  }

  public static Params quick(String live) {
    return new Params(10, 100, 1, 2, 6, 5, live);
  }

  @Override
  public String id() {
    return ingest ? "token-ingest" : "token-streaming";
  }

  @Override
  public String title() {
    if (ingest) {
      return "1b. Token ingest ceiling (" + p.streams + " streams x " + p.deltasPerSecond
          + " deltas/s offered, no subscribers)";
    }
    return "1. Token streaming (" + p.streams + " streams x " + p.deltasPerSecond + " deltas/s, "
        + p.subscribersPerStream + " " + p.live + " subscribers each" + LiveGroup.fallback(p.live)
        + ")";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return p.warmupSeconds + p.measureSeconds + p.drainSeconds + 120;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    LiveMode mode = LiveMode.parse(p.live);
    r.note(ctx.liveNote(mode));
    Bulk.Outcome created = Bulk.run(p.streams, 16, 60,
        i -> ctx.client().create(ctx.stream(id(), i), StreamClient.JSON));
    if (created.failed() > 0) {
      return r.build("failed: " + created.failed() + " of " + p.streams
          + " streams not created (last: " + created.lastFailure() + ")");
    }
    int seconds = p.warmupSeconds + p.measureSeconds + p.drainSeconds + 2;
    RateTimeline deliveries = new RateTimeline(seconds);
    RateTimeline acks = new RateTimeline(seconds);
    DeliverySink sink = new DeliverySink(deliveries);
    int readers = p.streams * p.subscribersPerStream;
    LiveGroup group = LiveGroup.open(ctx, mode, readers, 200, 60,
        i -> ctx.stream(id(), i % p.streams), sink);
    Log.info(id() + ": " + group.attached() + "/" + readers + " subscribers attached in "
        + String.format("%.1f s", group.attachSeconds()));
    if (readers > 0 && group.attached() == 0) {
      group.stop(2);
      return r.build("failed: no subscriber could attach");
    }

    Histogram ackLatency = Latencies.newHistogram();
    LongAdder acked = new LongAdder();
    LongAdder requests = new LongAdder();
    ErrorTally errors = new ErrorTally();
    TokenProducer[] producers = new TokenProducer[p.streams];
    for (int i = 0; i < p.streams; i++) {
      producers[i] = new TokenProducer(ctx.client(), ctx.stream(id(), i), i, acks, ackLatency,
          acked, requests, errors);
    }
    long started = System.nanoTime();
    acks.startAt(started);
    deliveries.startAt(started);
    sink.openWindow(started + TimeUnit.SECONDS.toNanos(p.warmupSeconds));
    long produced = LoadClock.run(p.streams, p.deltasPerSecond,
        p.warmupSeconds + p.measureSeconds, i -> producers[i].produce());
    sink.closeWindow(System.nanoTime());

    long expected = 0;
    long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(p.drainSeconds);
    while (System.nanoTime() < drainDeadline) {
      boolean allIdle = true;
      for (TokenProducer t : producers) {
        allIdle &= t.idle();
      }
      // Readers attach round-robin, so stream i has attached/streams readers on average.
      expected = acked.sum() * group.attached() / p.streams;
      if (allIdle && sink.delivered() >= expected) {
        break;
      }
      Thread.sleep(50);
    }
    expected = acked.sum() * group.attached() / p.streams;
    Bulk.run(p.streams, 16, 30, i -> ctx.client().close(ctx.stream(id(), i)));
    group.stop(5);

    double measured = p.measureSeconds;
    double ackedInWindow = sum(acks.perSecond(seconds), p.warmupSeconds, p.measureSeconds);
    double deliveredInWindow = sum(deliveries.perSecond(seconds), p.warmupSeconds,
        p.measureSeconds);
    r.metric("deltas offered/s", (double) produced / (p.warmupSeconds + p.measureSeconds),
        "/s", Better.NEITHER);
    r.metric("durable deltas acked/s", ackedInWindow / measured, "/s", Better.HIGHER);
    r.metric("deltas per append request", requests.sum() == 0 ? 0
        : (double) acked.sum() / requests.sum(), "", Better.NEITHER);
    r.metric("deliveries/s", deliveredInWindow / measured, "/s", Better.HIGHER);
    r.metric("append errors", errors.total(), "", Better.LOWER);
    if (errors.total() > 0) {
      r.note("append errors: " + errors.describe());
    }
    r.metric("deliveries missing", Math.max(0, expected - sink.delivered()), "", Better.LOWER);
    r.metric("subscribers attached", group.attached(), "", Better.HIGHER);
    r.metric("subscriber failures", group.failures(), "", Better.LOWER);
    if (ctx.live(mode) == LiveMode.WS) {
      r.metric("WebSocket error frames", group.errorFrames(), "", Better.LOWER);
      if (group.failures() > 0 || group.errorFrames() > 0) {
        r.note("last WebSocket failure: " + group.lastFailure());
      }
    }
    r.metric("deliveries duplicated, reordered or after a gap", group.sequenceAnomalies(), "",
        Better.LOWER);
    r.latency("append-to-subscriber", sink.latency());
    r.latency("append ack", ackLatency);
    r.timeline("durable deltas acked/s", "/s", acks.perSecond(seconds));
    r.timeline("deliveries/s", "/s", deliveries.perSecond(seconds));
    r.note("latency counts only deltas produced in the " + p.measureSeconds
        + " s window after " + p.warmupSeconds
        + " s warm-up; it includes time queued in the producer");
    return r.build("ok");
  }

  static double sum(double[] perSecond, int from, int count) {
    double s = 0;
    for (int i = from; i < Math.min(perSecond.length, from + count); i++) {
      s += perSecond[i];
    }
    return s;
  }
}
