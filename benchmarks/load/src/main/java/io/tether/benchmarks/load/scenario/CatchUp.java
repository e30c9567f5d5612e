package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.client.TimestampScanner;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scenario 3, catch-up: fills a JSON stream with {@code events} small events, then times a
 * client reading all of them from offset {@code -1}, page after page as the server chooses to
 * split them, until {@code Stream-Up-To-Date}. Each read is repeated and the best and median
 * reported; the time includes receiving every byte and counting every message in the client.
 */
public final class CatchUp implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(List<Integer> events, int eventBytes, int fillBatch, int fillConcurrency,
      int repetitions) {}

  private final Params p;

  public CatchUp(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(List.of(10_000, 100_000), 100, 1000, 4, 5);
  }

  public static Params quick() {
    return new Params(List.of(10_000, 100_000), 100, 1000, 4, 2);
  }

  @Override
  public String id() {
    return "catch-up";
  }

  @Override
  public String title() {
    return "3. Catch-up read from offset -1 (" + p.eventBytes + " B JSON events)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return 600;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    String status = "ok";
    for (int events : p.events) {
      String stream = ctx.stream(id(), events);
      if (!ctx.client().create(stream, StreamClient.JSON).get().ok()) {
        return r.build("failed: could not create " + stream);
      }
      if (Visibility.await(ctx.client(), 1, i -> stream) > 0) {
        r.note(events + " events: the new stream answered 404 for a moment after its 201");
      }
      int batches = (events + p.fillBatch - 1) / p.fillBatch;
      Bulk.Outcome filled = Bulk.run(batches, p.fillConcurrency, 300, b -> {
        List<String> batch = new ArrayList<>(p.fillBatch);
        for (int i = b * p.fillBatch; i < Math.min(events, (b + 1) * p.fillBatch); i++) {
          batch.add(Payloads.smallEvent(i, 0, p.eventBytes));
        }
        return ctx.client().append(stream, StreamClient.JSON, Payloads.jsonArray(batch));
      });
      if (filled.failed() > 0) {
        r.note(events + " events: " + filled.failed() + " fill batches failed ("
            + filled.lastFailure() + ")");
        status = "failed: stream could not be filled";
        continue;
      }
      r.metric(events + " events: fill rate", events / filled.seconds(), "events/s", Better.HIGHER);
      double[] ms = new double[p.repetitions];
      int pages = 0;
      long counted = 0;
      for (int rep = 0; rep < p.repetitions; rep++) {
        long began = System.nanoTime();
        String offset = "-1";
        pages = 0;
        counted = 0;
        while (true) {
          StreamClient.Page page = ctx.client().read(stream, offset);
          if (page.status() != 200) {
            throw new IllegalStateException("catch-up read returned HTTP " + page.status());
          }
          pages++;
          counted += TimestampScanner.scan(page.body(), t -> { });
          if (page.upToDate() || page.nextOffset() == null || page.nextOffset().equals(offset)) {
            break;
          }
          offset = page.nextOffset();
        }
        ms[rep] = (System.nanoTime() - began) / 1e6;
      }
      Arrays.sort(ms);
      r.metric(events + " events: catch-up (best)", ms[0], "ms", Better.LOWER);
      r.metric(events + " events: catch-up (median)", ms[ms.length / 2], "ms", Better.LOWER);
      r.metric(events + " events: read rate (best)", events / (ms[0] / 1000), "events/s",
          Better.HIGHER);
      r.metric(events + " events: pages", pages, "", Better.NEITHER);
      if (counted != events) {
        r.note(events + " events: the client counted " + counted + " messages");
        status = "failed: wrong message count";
      }
      Log.info(id() + String.format(": %d events in %.1f ms (best of %d, %d pages)", events, ms[0],
          p.repetitions, pages));
    }
    return r.build(status);
  }
}
