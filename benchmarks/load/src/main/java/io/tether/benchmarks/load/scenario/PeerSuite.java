package io.tether.benchmarks.load.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.targets.NpmInstall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 8, the peer's own benchmark suite: the Durable Streams project's
 * {@code packages/benchmarks} (append then receive by long-poll; 1,000 appends of 100 B to one
 * stream, 75 in flight; 50 appends of 1 MiB, 15 in flight; a baseline ping), run by Node from
 * {@code benchmarks/load/peer-suite/} against the target. That suite is not published on npm, so
 * the directory holds an attributed re-implementation of it on its published dependencies (the
 * Durable Streams client and vitest, pinned in its lock file; see {@code suite.bench.mjs}). This
 * scenario installs them, runs {@code vitest bench --run}, and reports the suite's own
 * statistics (its nearest-rank percentiles over every recorded call), not HdrHistogram ones.
 * The Node process is the load generator here: its CPU counts as the generator's.
 */
public final class PeerSuite implements Scenario {
  /**
   * The parameters, recorded with the results: where the suite lives, the factor on each
   * bench's minimum time (1 is the suite's own: 5 s ping, 15 s latency, 10 s per throughput
   * bench), and how long the whole suite may take.
   */
  public record Params(String suite, double timeScale, int maxSeconds) {}

  /** The suite's result names, what they are, and which direction is better. */
  private record Figure(String result, String label, Better better) {}

  private static final List<Figure> FIGURES = List.of(
      new Figure("Throughput - Small Messages", "small messages", Better.HIGHER),
      new Figure("Throughput - Large Messages", "large messages", Better.HIGHER),
      new Figure("Latency - Total RTT", "append then long-poll receive", Better.LOWER),
      new Figure("Latency - Overhead", "append then long-poll receive minus ping",
          Better.LOWER),
      new Figure("Baseline Ping", "baseline ping", Better.LOWER));

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Params p;

  public PeerSuite(Path dir, Params params) {
    this.dir = dir;
    this.p = params;
  }

  public static Params full() {
    return new Params("benchmarks/load/peer-suite", 1.0, 600);
  }

  public static Params quick() {
    return new Params("benchmarks/load/peer-suite", 0.2, 300);
  }

  @Override
  public String id() {
    return "peer-suite";
  }

  @Override
  public String title() {
    return "8. The Durable Streams benchmark suite (packages/benchmarks, re-implemented on its "
        + "published client and vitest" + (p.timeScale == 1 ? "" : ", bench times x "
        + p.timeScale) + ")";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return p.maxSeconds + 300;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    String name = ctx.target().name();
    NpmInstall.ensure(dir, ctx.logs().resolve("peer-suite-npm-ci.log"));
    Path out = ctx.logs().resolve("peer-suite-" + name + ".json");
    Path log = ctx.logs().resolve("peer-suite-" + name + ".log");
    Files.deleteIfExists(out);
    ProcessBuilder builder = new ProcessBuilder("node", "node_modules/vitest/vitest.mjs",
        "bench", "--run")
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("DS_BENCH_BASE_URL", ctx.target().url().toString());
    env.put("DS_BENCH_OUT", out.toString());
    env.put("DS_BENCH_TIME_SCALE", Double.toString(p.timeScale));
    env.put("DS_BENCH_ENVIRONMENT", name);
    env.put("NO_COLOR", "1");
    long began = System.nanoTime();
    Process node = builder.start();
    boolean finished = node.waitFor(p.maxSeconds, TimeUnit.SECONDS);
    if (!finished) {
      node.descendants().forEach(ProcessHandle::destroyForcibly);
      node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - began) / 1e9;
    Log.info(id() + String.format(Locale.ROOT, ": vitest bench %s after %.0f s",
        finished ? "exited " + node.exitValue() : "stopped", seconds));
    if (!Files.exists(out)) {
      return r.build("failed: the suite wrote no results ("
          + (finished ? "exit " + node.exitValue() : "stopped after " + p.maxSeconds + " s")
          + "; see logs/" + log.getFileName() + ")");
    }
    JsonNode doc = JSON.readTree(out.toFile());
    JsonNode results = doc.path("results");
    for (Figure f : FIGURES) {
      JsonNode stats = results.path(f.result);
      if (stats.isMissingNode()) {
        continue;
      }
      String unit = "msg/sec".equals(stats.path("unit").asText()) ? "msg/s"
          : stats.path("unit").asText();
      String label = f.label;
      if (f.better == Better.HIGHER) {
        r.metric(label + ", mean", stats.path("mean").asDouble(), unit, f.better);
        r.metric(label + ", p50", stats.path("p50").asDouble(), unit, f.better);
        r.metric(label + ", min", stats.path("min").asDouble(), unit, f.better);
      } else {
        r.metric(label + ", p50", stats.path("p50").asDouble(), unit, f.better);
        r.metric(label + ", p99", stats.path("p99").asDouble(), unit, f.better);
        r.metric(label + ", mean", stats.path("mean").asDouble(), unit, f.better);
      }
      r.metric(label + ", calls recorded", stats.path("iterations").asDouble(), "",
          Better.NEITHER);
    }
    List<String> failed = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("failures").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> failure = it.next();
      failed.add(failure.getKey());
      r.note("bench '" + failure.getKey() + "' failed: " + failure.getValue().asText());
    }
    r.metric("benches failed", failed.size(), "", Better.LOWER);
    r.note("the suite's figures: small messages = 'Throughput - Small Messages' (1,000 x 100 B "
        + "to one stream, 75 in flight), large messages = 'Throughput - Large Messages' (50 x "
        + "1 MiB, 15 in flight), append then long-poll receive = 'Latency - Total RTT' (100 B), "
        + "minus ping = 'Latency - Overhead', baseline ping = 'Baseline Ping' (GET /health)");
    r.note("the suite's own statistics: every recorded call (vitest's warm-up calls included, "
        + "as the suite records inside the bench), nearest-rank percentiles; msg/s counts 1,000 "
        + "(50) messages over the time of 1,050 (60) appends, as the suite does; the client "
        + "sends each round's first append alone and the rest of the round as one POST");
    r.note("the suite ran in Node (vitest), its output in logs/" + log.getFileName()
        + "; 'cpu: load generator' includes that Node process");
    return r.build(finished ? "ok" : "failed: stopped after " + p.maxSeconds + " s (partial)");
  }
}
