package io.tether.benchmarks.load.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.RunReport;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes the run as Markdown: the machine, then per scenario its exact parameters and a table
 * with every metric for every target and the ratio of the first target to the second (Tether to
 * the peer when both ran), marked with which side the ratio favours.
 */
public final class MarkdownReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private MarkdownReport() {}

  public static void write(RunReport report, List<String> plots, Path file) throws IOException {
    Files.writeString(file, render(report, plots));
  }

  static String render(RunReport report, List<String> plots) throws IOException {
    List<TargetRun> targets = ordered(report.targets());
    StringBuilder md = new StringBuilder();
    md.append("# Tether benchmark results\n\n");
    if ("quick".equals(report.options().get("scale"))) {
      md.append("**Quick scale: a reduced load that shows the pipeline works end to end. These "
          + "figures are not of record; the full run is `benchmarks/run.sh` without "
          + "`--quick`.**\n\n");
    }
    md.append("Run ").append(report.startedAt()).append(" to ").append(report.finishedAt())
        .append(", options ").append(JSON.writeValueAsString(report.options())).append(".\n\n");
    md.append("Machine: ");
    report.machine().forEach((k, v) -> md.append(k).append(" = ").append(v).append("; "));
    md.append("\n\n");
    int cores = report.machine().get("cores") instanceof Number n ? n.intValue() : 1;
    for (TargetRun t : targets) {
      md.append("- **").append(t.target()).append("** ").append(t.url()).append(" (")
          .append(t.status()).append("): ").append(JSON.writeValueAsString(t.info()))
          .append(othersShare(t, cores)).append('\n');
    }
    String ratioHeader = targets.size() >= 2
        ? targets.get(0).target() + "/" + targets.get(1).target() : "ratio";
    md.append("\nRatios are ").append(ratioHeader).append("; the last column says which side the "
        + "figure favours (for latencies and memory, lower is better).\n");
    renderSummary(md, targets);
    IssueTargets.render(md, targets, "quick".equals(report.options().get("scale")));

    Map<String, List<ScenarioResult>> byScenario = new LinkedHashMap<>();
    for (TargetRun t : targets) {
      for (ScenarioResult r : t.results()) {
        byScenario.computeIfAbsent(r.scenario(), k -> new ArrayList<>());
      }
    }
    for (String scenario : byScenario.keySet()) {
      List<Optional<ScenarioResult>> row = targets.stream().map(t -> t.results().stream()
          .filter(r -> r.scenario().equals(scenario)).findFirst()).toList();
      ScenarioResult any = row.stream().flatMap(Optional::stream).findFirst().orElseThrow();
      md.append("\n## ").append(any.title()).append("\n\n");
      md.append("Parameters: `").append(JSON.writeValueAsString(any.params())).append("`\n\n");
      for (int i = 0; i < targets.size(); i++) {
        String status = row.get(i).map(ScenarioResult::status).orElse("not run");
        md.append("- ").append(targets.get(i).target()).append(": ").append(status);
        row.get(i).ifPresent(r -> md.append(String.format(Locale.ROOT, " (%.0f s)", r.seconds())));
        md.append('\n');
      }
      List<String> metricNames = new ArrayList<>();
      row.stream().flatMap(Optional::stream).flatMap(r -> r.metrics().stream())
          .map(Metric::name).filter(n -> !metricNames.contains(n)).forEach(metricNames::add);
      if (!metricNames.isEmpty()) {
        md.append("\n| metric | unit |");
        targets.forEach(t -> md.append(' ').append(t.target()).append(" |"));
        md.append(' ').append(ratioHeader).append(" | favours |\n|---|---|");
        targets.forEach(t -> md.append("---:|"));
        md.append("---:|---|\n");
        for (String name : metricNames) {
          List<Optional<Metric>> values = row.stream()
              .map(r -> r.flatMap(x -> x.metric(name))).toList();
          Metric any2 = values.stream().flatMap(Optional::stream).findFirst().orElseThrow();
          md.append("| ").append(name).append(" | ").append(any2.unit()).append(" |");
          values.forEach(v -> md.append(' ').append(v.map(m -> number(m.value())).orElse("-"))
              .append(" |"));
          md.append(' ').append(ratio(values, targets)).append(" |\n");
        }
      }
      Map<String, List<String>> notes = new LinkedHashMap<>();
      for (int i = 0; i < targets.size(); i++) {
        String target = targets.get(i).target();
        row.get(i).ifPresent(r -> r.notes().forEach(n ->
            notes.computeIfAbsent(n, k -> new ArrayList<>()).add(target)));
      }
      int ran = (int) row.stream().filter(Optional::isPresent).count();
      notes.forEach((note, who) -> md.append("\nNote").append(who.size() == ran ? ""
          : " (" + String.join(", ", who) + ")").append(": ").append(note).append('\n'));
      for (String plot : plots) {
        if (plot.contains("-" + scenario + ".png")) {
          md.append("\n![").append(plot).append("](").append(plot).append(")\n");
        }
      }
    }
    return md.toString();
  }

  /** The headline figures: scenario id and a metric name, or a suffix after "*". */
  private static final List<String[]> SUMMARY = List.of(
      new String[] {"peer-suite", "small messages, mean"},
      new String[] {"peer-suite", "large messages, mean"},
      new String[] {"peer-suite", "append then long-poll receive, p50"},
      new String[] {"peer-suite", "append then long-poll receive, p99"},
      new String[] {"peer-suite", "benches failed"},
      new String[] {"token-streaming", "durable deltas acked/s"},
      new String[] {"token-streaming", "deliveries/s"},
      new String[] {"token-streaming", "append-to-subscriber p50"},
      new String[] {"token-streaming", "append-to-subscriber p99"},
      new String[] {"token-streaming", "append-to-subscriber p99.9"},
      new String[] {"token-ingest", "durable deltas acked/s"},
      new String[] {"token-ingest", "deltas per append request"},
      new String[] {"token-ingest", "append errors"},
      new String[] {"token-ingest", "append ack p99"},
      new String[] {"throughput", "*: appends/s"},
      new String[] {"throughput", "*: append p99"},
      new String[] {"catch-up", "*: catch-up (median)"},
      new String[] {"fan-out", "deliveries/s"},
      new String[] {"fan-out", "append-to-subscriber p50"},
      new String[] {"fan-out", "append-to-subscriber p99"},
      new String[] {"connections", "connections held"},
      new String[] {"connections", "server RSS per connection"},
      new String[] {"connections", "server live heap per connection"},
      new String[] {"sessions", "streams created/s (PUT + first append)"},
      new String[] {"sessions", "server RSS per idle stream"},
      new String[] {"sessions", "server live heap per idle stream"},
      new String[] {"long-session", "append rate"},
      new String[] {"long-session", "HTTP catch-up from -1 (median)"},
      new String[] {"long-session", "*granularity (median)"},
      new String[] {"long-session", "first request after a restart (read at the tail)"},
      new String[] {"recovery", "first full read after restart p50"},
      new String[] {"recovery", "first full read after restart p99"},
      new String[] {"recovery", "second full read p50"},
      new String[] {"failover", "kill to first delivery, subscriber resumed on another node p50"},
      new String[] {"failover", "kill to first delivery, subscriber resumed on another node max"},
      new String[] {"failover", "kill to first delivery, subscriber on a surviving node p50"},
      new String[] {"failover", "kill to first acknowledged append p50"});

  /** One table of the headline figures of every scenario, with the ratio. */
  private static void renderSummary(StringBuilder md, List<TargetRun> targets) {
    if (targets.size() < 2) {
      return;
    }
    String ratioHeader = targets.get(0).target() + "/" + targets.get(1).target();
    md.append("\n## Summary\n\n| scenario | metric | unit |");
    targets.forEach(t -> md.append(' ').append(t.target()).append(" |"));
    md.append(' ').append(ratioHeader).append(" | favours |\n|---|---|---|");
    targets.forEach(t -> md.append("---:|"));
    md.append("---:|---|\n");
    for (String[] row : SUMMARY) {
      List<String> names = new ArrayList<>();
      for (TargetRun t : targets) {
        t.results().stream().filter(r -> r.scenario().equals(row[0]))
            .flatMap(r -> r.metrics().stream()).map(Metric::name)
            .filter(n -> row[1].startsWith("*") ? n.endsWith(row[1].substring(1))
                : n.equals(row[1]))
            .filter(n -> !names.contains(n)).forEach(names::add);
      }
      for (String name : names) {
        List<Optional<Metric>> values = targets.stream().map(t -> t.results().stream()
            .filter(r -> r.scenario().equals(row[0])).findFirst()
            .flatMap(r -> r.metric(name))).toList();
        String unit = values.stream().flatMap(Optional::stream).findFirst()
            .map(Metric::unit).orElse("");
        md.append("| ").append(row[0]).append(" | ").append(name).append(" | ").append(unit)
            .append(" |");
        values.forEach(v -> md.append(' ').append(v.map(m -> number(m.value())).orElse("-"))
            .append(" |"));
        md.append(' ').append(ratio(values, targets)).append(" |\n");
      }
    }
  }

  /** How much of the machine other processes used while this target's scenarios ran. */
  private static String othersShare(TargetRun t, int cores) {
    double others = 0;
    double wall = 0;
    for (ScenarioResult r : t.results()) {
      Optional<Metric> o = r.metric("cpu: rest of the machine");
      Optional<Metric> w = r.metric("wall time");
      if (o.isPresent() && w.isPresent()) {
        others += o.get().value();
        wall += w.get().value();
      }
    }
    return wall == 0 ? "" : String.format(Locale.ROOT,
        "; while its scenarios ran, other processes used %.0f%% of the machine's %d cores",
        100 * others / (wall * cores), cores);
  }

  /** Tether first and the peer second when both ran, so the ratio is Tether/peer. */
  static List<TargetRun> ordered(List<TargetRun> targets) {
    List<TargetRun> out = new ArrayList<>();
    targets.stream().filter(t -> t.target().equals("tether")).forEach(out::add);
    targets.stream().filter(t -> t.target().equals("peer")).forEach(out::add);
    targets.stream().filter(t -> !out.contains(t)).forEach(out::add);
    return out;
  }

  private static String ratio(List<Optional<Metric>> values, List<TargetRun> targets) {
    if (values.size() < 2 || values.get(0).isEmpty() || values.get(1).isEmpty()) {
      return "- | -";
    }
    Metric a = values.get(0).get();
    Metric b = values.get(1).get();
    if (b.value() == 0) {
      return (a.value() == 0 ? "=" : "-") + " | -";
    }
    double r = a.value() / b.value();
    String favours = "-";
    if (a.better() != Metric.Better.NEITHER && Math.abs(r - 1) > 0.05) {
      boolean firstAhead = a.better() == Metric.Better.HIGHER ? r > 1 : r < 1;
      favours = targets.get(firstAhead ? 0 : 1).target();
    }
    return String.format(Locale.ROOT, "%.2f", r) + " | " + favours;
  }

  static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e12) {
      return String.format(Locale.ROOT, "%,d", (long) v);
    }
    if (Math.abs(v) >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (Math.abs(v) >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }
}
