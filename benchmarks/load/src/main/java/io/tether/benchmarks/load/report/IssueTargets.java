package io.tether.benchmarks.load.report;

import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.TargetRun;
import java.util.List;
import java.util.Optional;

/**
 * The absolute targets of issue 8, checked against each target's figures. A target reads one
 * metric of one scenario and compares it with a threshold; whether the run's load could reach
 * the threshold at all (quick scale offers less) is said in the condition.
 */
final class IssueTargets {
  /** One target: {@code metric} of {@code scenario} must be at least (or at most) {@code limit}. */
  record Check(String description, String scenario, String metric, boolean atLeast, double limit,
      String condition, boolean fullScaleOnly) {

    Optional<Double> value(TargetRun run) {
      return run.results().stream().filter(r -> r.scenario().equals(scenario)).findFirst()
          .flatMap(r -> r.metric(metric)).map(Metric::value);
    }

    String verdict(Optional<Double> value, boolean quick) {
      if (value.isEmpty()) {
        return "not measured";
      }
      if (quick && fullScaleOnly) {
        return "quick scale cannot reach it";
      }
      boolean met = atLeast ? value.get() >= limit : value.get() <= limit;
      return met ? "met" : "missed";
    }
  }

  static final List<Check> CHECKS = List.of(
      new Check("durable token ingest", "token-ingest", "durable deltas acked/s", true,
          20_000, "the full scale offers 25,000 deltas/s (250 streams x 100/s)", true),
      new Check("append-to-subscriber p99 while streaming tokens", "token-streaming",
          "append-to-subscriber p99", false, 25, "at 5,000 deltas/s on the full scale", true),
      new Check("catch-up of 10,000 events (median)", "catch-up", "10000 events: catch-up (median)",
          false, 200, "", false),
      new Check("fan-out deliveries", "fan-out", "deliveries/s", true, 100_000,
          "the full scale offers 100,000/s (1,000 readers x 100/s)", true),
      new Check("memory per idle session", "sessions", "server RSS per idle stream", false,
          2048, "RSS delta, bytes", false),
      new Check("idle WebSocket connections held", "connections", "WebSocket connections held",
          true, 10_000, "the full scale opens 10,000; only a target with the session WebSocket",
          true));

  private IssueTargets() {}

  static void render(StringBuilder md, List<TargetRun> targets, boolean quick) {
    md.append("\n## Issue 8 targets\n\n| target | limit | condition |");
    targets.forEach(t -> md.append(' ').append(t.target()).append(" |"));
    md.append("\n|---|---:|---|");
    targets.forEach(t -> md.append("---|"));
    md.append('\n');
    for (Check c : CHECKS) {
      md.append("| ").append(c.description()).append(" | ").append(c.atLeast() ? ">= " : "<= ")
          .append(MarkdownReport.number(c.limit())).append(" | ").append(c.condition())
          .append(" |");
      for (TargetRun t : targets) {
        Optional<Double> v = c.value(t);
        md.append(' ').append(v.map(MarkdownReport::number).orElse("-")).append(" (")
            .append(c.verdict(v, quick)).append(") |");
      }
      md.append('\n');
    }
  }

}
