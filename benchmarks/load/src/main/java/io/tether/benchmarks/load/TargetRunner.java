package io.tether.benchmarks.load;

import io.tether.benchmarks.load.client.HttpClients;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.CpuMeter;
import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import io.tether.benchmarks.load.scenario.CpuFigures;
import io.tether.benchmarks.load.scenario.Scenario;
import io.tether.benchmarks.load.scenario.ScenarioContext;
import io.tether.benchmarks.load.client.WsSubscriber;
import io.tether.benchmarks.load.targets.ManagedTarget;
import io.tether.benchmarks.load.targets.Target;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Runs the scenario set against one running target: first a protocol probe (create, append,
 * read), then each scenario in turn under its own time limit, with a pause between them so one
 * scenario's garbage is not the next one's latency. A failing scenario is recorded and the run
 * goes on.
 */
final class TargetRunner {
  private static final int LIVE_CLIENTS = 4;
  private static final int PAUSE_SECONDS = 2;

  private TargetRunner() {}

  static TargetRun run(ManagedTarget managed, boolean restartable, List<Scenario> scenarios,
      String runId, Path logs, Consumer<TargetRun> progress) {
    Target target = managed.target();
    StreamClient client = new StreamClient(HttpClients.newClient(target.name() + "-req"),
        target.url(), "/v1/stream/", Duration.ofSeconds(60));
    List<HttpClient> liveClients = new ArrayList<>();
    for (int i = 0; i < LIVE_CLIENTS; i++) {
      liveClients.add(HttpClients.newClient(target.name() + "-live" + i));
    }
    String prefix = "bench-" + runId + "-" + target.name();
    AtomicReference<Target> current = new AtomicReference<>(target);
    ScenarioContext.Restarter restarter = restartable ? () -> {
      Target t = managed.restart();
      current.set(t);
      return t;
    } : null;
    List<ScenarioResult> results = new ArrayList<>();
    String probe = probe(client, prefix + "-probe");
    String noSocket = probe != null ? probe : WsSubscriber.probe(liveClients.get(0),
        client.sessionSocketUri(prefix + "-probe"), null, Duration.ofSeconds(20));
    Map<String, Object> info = new LinkedHashMap<>(target.info());
    info.put("sessionWebSocket", noSocket == null ? "yes" : "no (" + noSocket + ")");
    Log.info(target.name() + ": session WebSocket: " + info.get("sessionWebSocket"));
    ScenarioContext ctx = new ScenarioContext(target, client, liveClients, prefix, restarter,
        noSocket, managed.tetherRoot(), logs, managed::liveHeap);
    if (probe != null) {
      Log.info(target.name() + ": protocol probe failed: " + probe);
      for (Scenario s : scenarios) {
        results.add(ScenarioResult.without(s.id(), s.title(), s.params(),
            "skipped: the target does not serve the protocol yet (" + probe + ")"));
      }
      return new TargetRun(target.name(), target.url().toString(), info,
          "probe failed: " + probe, results);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "scenario-" + target.name());
      t.setDaemon(true);
      return t;
    });
    try {
      for (Scenario s : scenarios) {
        Log.info(target.name() + ": " + s.title());
        CpuMeter.Snapshot before = CpuMeter.snapshot(ctx.target().pid());
        ScenarioResult result = runOne(executor, s, ctx);
        // A restart changes the pid; CPU of a restarted server is not comparable, so skip it.
        if (current.get() == ctx.target()) {
          CpuMeter.Usage cpu = CpuMeter.between(before, CpuMeter.snapshot(ctx.target().pid()));
          result = withCpu(result, s.measuresTarget() ? CpuFigures.of(cpu)
              : CpuFigures.ofOwnServers(cpu));
        }
        results.add(result);
        progress.accept(new TargetRun(target.name(), target.url().toString(),
            withSocket(current.get().info(), info), "running", List.copyOf(results)));
        if (current.get() != ctx.target()) {
          ctx = new ScenarioContext(current.get(), client, liveClients, prefix, restarter,
              noSocket, managed.tetherRoot(), logs, managed::liveHeap);
        }
        Log.info(target.name() + ": " + s.id() + " -> " + results.get(results.size() - 1).status());
        Thread.sleep(PAUSE_SECONDS * 1000L);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      executor.shutdownNow();
    }
    return new TargetRun(target.name(), target.url().toString(),
        withSocket(current.get().info(), info), "ok", results);
  }

  /** The target's info as it is now (a restart updates it) with the WebSocket probe's outcome. */
  private static Map<String, Object> withSocket(Map<String, Object> now,
      Map<String, Object> probed) {
    Map<String, Object> info = new LinkedHashMap<>(now);
    info.put("sessionWebSocket", probed.get("sessionWebSocket"));
    return info;
  }

  /** Adds where the CPU went during the scenario, as metrics. */
  private static ScenarioResult withCpu(ScenarioResult r, List<Metric> cpu) {
    if (r.metrics().isEmpty()) {
      return r;
    }
    List<Metric> metrics = new ArrayList<>(r.metrics());
    metrics.addAll(cpu);
    return new ScenarioResult(r.scenario(), r.title(), r.params(), r.status(), r.seconds(),
        metrics, r.latencies(), r.timelines(), r.notes());
  }

  private static ScenarioResult runOne(ExecutorService executor, Scenario s, ScenarioContext ctx)
      throws InterruptedException {
    Future<ScenarioResult> f = executor.submit(() -> s.run(ctx));
    try {
      return f.get(s.maxSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      return ScenarioResult.without(s.id(), s.title(), s.params(),
          "failed: did not finish within " + s.maxSeconds() + " s");
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return ScenarioResult.without(s.id(), s.title(), s.params(), "failed: " + cause);
    }
  }

  /** Null when the target creates, appends to and reads a JSON stream; else what went wrong. */
  private static String probe(StreamClient client, String stream) {
    try {
      StreamClient.Written created =
          client.create(stream, StreamClient.JSON).get(30, TimeUnit.SECONDS);
      if (created.status() != 201 && created.status() != 200) {
        return "PUT answered HTTP " + created.status();
      }
      StreamClient.Written appended = client.append(stream, StreamClient.JSON,
          "[{\"t\":1}]".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
      if (!appended.ok()) {
        return "POST answered HTTP " + appended.status();
      }
      StreamClient.Page page = client.read(stream, "-1");
      String body = new String(page.body(), StandardCharsets.UTF_8);
      if (page.status() != 200 || !body.contains("\"t\":1")) {
        return "GET answered HTTP " + page.status();
      }
      return null;
    } catch (Exception e) {
      return e.toString();
    }
  }
}
