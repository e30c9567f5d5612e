package io.tether.benchmarks.load;

import io.tether.benchmarks.load.client.HttpClients;
import io.tether.benchmarks.load.report.JsonReport;
import io.tether.benchmarks.load.report.MachineInfo;
import io.tether.benchmarks.load.report.MarkdownReport;
import io.tether.benchmarks.load.report.Plots;
import io.tether.benchmarks.load.result.RunReport;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import io.tether.benchmarks.load.scenario.Scenario;
import io.tether.benchmarks.load.scenario.ScenarioSet;
import io.tether.benchmarks.load.targets.ExternalTarget;
import io.tether.benchmarks.load.targets.ManagedTarget;
import io.tether.benchmarks.load.targets.PeerServer;
import io.tether.benchmarks.load.targets.TetherServer;
import io.tether.benchmarks.load.targets.TetherSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The one command: parses the options, then for each target in turn starts it (or takes the
 * given URL), runs the scenario set, and stops it, so only one server runs at a time; finally
 * writes {@code results.json}, {@code results.md} and the plots into the results directory.
 * A target that cannot start is recorded as such and the run goes on with the next.
 */
public final class BenchmarkMain {
  /** The target being measured, for the shutdown hook: an interrupted run still stops it. */
  private static final AtomicReference<ManagedTarget> CURRENT = new AtomicReference<>();

  private BenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    HttpClients.configureJdkDefaults();
    System.setProperty("java.awt.headless", "true");
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      ManagedTarget t = CURRENT.getAndSet(null);
      if (t != null) {
        t.close();
      }
    }, "bench-stop-target"));

    Path out = options.out();
    Path logs = out.resolve("logs");
    Files.createDirectories(logs);
    String startedAt = Instant.now().toString();
    String runId = DateTimeFormatter.ofPattern("MMddHHmmss").withZone(ZoneOffset.UTC)
        .format(Instant.now());
    Map<String, Object> machine = new java.util.LinkedHashMap<>(MachineInfo.describe());
    List<Scenario> scenarios = ScenarioSet.of(options.quick(), options.streamingLive(),
        options.connectionsLive(), options.scenarios(),
        options.repo().resolve("benchmarks/load/peer-suite"));
    Log.info("scenarios: " + scenarios.stream().map(Scenario::id).toList() + " ("
        + (options.quick() ? "quick" : "full") + " scale)");

    List<TargetRun> runs = new ArrayList<>();
    Consumer<TargetRun> progress = partial -> {
      List<TargetRun> soFar = new ArrayList<>(runs);
      soFar.add(partial);
      write(startedAt, machine, options, soFar, out);
    };
    for (String name : options.managed()) {
      runs.add(measure(name, () -> start(name, options, logs), true, scenarios, options, runId,
          progress));
      write(startedAt, machine, options, runs, out);
    }
    options.external().forEach((name, url) -> {
      runs.add(measure(name, () -> new ExternalTarget(name, url, options.pidOf(name)), false,
          scenarios, options, runId, progress));
      write(startedAt, machine, options, runs, out);
    });
    Log.info("results in " + out.resolve("results.md") + " and " + out.resolve("results.json"));
  }

  /**
   * Writes every output file; called after each scenario, so an interrupted run keeps its
   * figures.
   */
  private static void write(String startedAt, Map<String, Object> machine, Options options,
      List<TargetRun> runs, Path out) {
    try {
      machine.put("loadAverageAtEnd", MachineInfo.loadAverage());
      RunReport report = new RunReport(startedAt, Instant.now().toString(), machine,
          options.describe(), List.copyOf(runs));
      JsonReport.write(report, out.resolve("results.json"));
      List<String> plots = Plots.write(report, out);
      MarkdownReport.write(report, plots, out.resolve("results.md"));
    } catch (Exception e) {
      Log.info("could not write results: " + e);
    }
  }

  private interface Starter {
    ManagedTarget start() throws Exception;
  }

  private static TargetRun measure(String name, Starter starter, boolean restartable,
      List<Scenario> scenarios, Options options, String runId, Consumer<TargetRun> progress) {
    ManagedTarget target;
    try {
      Log.info(name + ": starting");
      target = starter.start();
    } catch (Exception e) {
      Log.info(name + ": could not start: " + e.getMessage());
      List<ScenarioResult> none = scenarios.stream().map(s -> ScenarioResult.without(s.id(),
          s.title(), s.params(), "not run: target unavailable")).toList();
      return new TargetRun(name, "-", Map.of(), "unavailable: " + e.getMessage(), none);
    }
    CURRENT.set(target);
    try {
      Log.info(name + ": up at " + target.target().url());
      return TargetRunner.run(target, restartable, scenarios, runId, options.out().resolve("logs"),
          progress);
    } finally {
      Log.info(name + ": stopping");
      CURRENT.set(null);
      target.close();
      Log.info(name + ": stopped");
    }
  }

  /** Where profiles go when {@code --profile} is on; null when it is off. */
  private static Path profiles(Options options) throws java.io.IOException {
    return options.profile()
        ? Files.createDirectories(options.out().resolve("profiles")) : null;
  }

  /** The repository itself, or with {@code --tether-ref} an export of that commit. */
  private static Path tetherRoot(Options options) throws Exception {
    if (options.tetherRef() == null) {
      return options.repo();
    }
    Log.info("tether: exporting " + options.tetherRef() + " (git archive)");
    return TetherSource.export(options.repo(), options.tetherRef());
  }

  private static ManagedTarget start(String name, Options options, Path logs) throws Exception {
    Path peerDir = options.repo().resolve("benchmarks/load/peer");
    return switch (name) {
      case "peer" -> PeerServer.start(peerDir, logs, 30_000, 120, profiles(options),
          options.peerFileHandles());
      case "tether" -> TetherServer.start(tetherRoot(options), logs, profiles(options),
          Duration.ofSeconds(options.tetherTimeoutSeconds()));
      default -> throw new IllegalArgumentException(name);
    };
  }
}
