package io.tether.benchmarks.load.report;

import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The issues' targets, checked against the figures of the run, so that every "met" anywhere
 * comes from here. Issue 8's are absolute limits on each target's own figure; issue 13's are
 * ratios of Tether to the peer in the same run (plus two absolute memory limits). A check that
 * the run's scale cannot reach (quick offers less) says so instead of a verdict.
 */
final class IssueTargets {
  /** {@code metric} of {@code scenario} must be at least (or at most) {@code limit}. */
  record Check(String description, String scenario, String metric, boolean atLeast, double limit,
      String condition, boolean fullScaleOnly) {

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

  /**
   * Tether's {@code metric} of {@code scenario} over the peer's must be at least (or at most)
   * {@code limit}.
   */
  record Ratio(String description, String scenario, String metric, boolean atLeast,
      double limit) {}

  static final List<Check> ISSUE_8 = List.of(
      new Check("durable token ingest", "token-ingest", "durable deltas acked/s", true,
          20_000, "the full scale offers 25,000 deltas/s (250 streams x 100/s)", true),
      new Check("append-to-subscriber p99 while streaming tokens", "token-streaming",
          "append-to-subscriber p99", false, 25, "at 5,000 deltas/s on the full scale", true),
      new Check("catch-up of 10,000 events (median)", "catch-up", "10000 events: catch-up (median)",
          false, 200, "", false),
      new Check("fan-out deliveries", "fan-out", "deliveries/s", true, 100_000,
          "achieved deliveries/s; the full scale offers 110,000/s (1,000 readers x 110/s)", true),
      new Check("memory per idle session", "sessions", "server live heap per idle stream",
          false, 2048, "live heap after a full GC, bytes (the RSS figure is in the scenario)",
          false),
      new Check("idle WebSocket connections held", "connections", "WebSocket connections held",
          true, 10_000, "the full scale opens 10,000; only a target with the session WebSocket",
          true));

  static final List<Ratio> ISSUE_13_RATIOS = List.of(
      new Ratio("peer suite: small messages, msg/s", "peer-suite", "small messages, mean", true,
          1.0),
      new Ratio("peer suite: large messages, msg/s", "peer-suite", "large messages, mean", true,
          1.0),
      new Ratio("peer suite: append then long-poll receive p50", "peer-suite",
          "append then long-poll receive, p50", false, 1.0),
      new Ratio("token ingest, durable deltas/s", "token-ingest", "durable deltas acked/s", true,
          1.0),
      new Ratio("token streaming, durable deltas/s", "token-streaming", "durable deltas acked/s",
          true, 1.0),
      new Ratio("token streaming, append-to-subscriber p50", "token-streaming",
          "append-to-subscriber p50", false, 1.0),
      new Ratio("throughput, 1 stream, 100 B", "throughput", "1 stream, 100 B: appends/s", true,
          1.0),
      new Ratio("throughput, many streams, 100 B", "throughput", "* streams, 100 B: appends/s",
          true, 1.0),
      new Ratio("throughput, 1 stream, 64 KiB", "throughput", "1 stream, 64 KiB: appends/s", true,
          1.0),
      new Ratio("throughput, many streams, 64 KiB", "throughput", "* streams, 64 KiB: appends/s",
          true, 1.0),
      new Ratio("catch-up of 10,000 events, read rate", "catch-up",
          "10000 events: read rate (best)", true, 1.0),
      new Ratio("catch-up of 100,000 events, read rate", "catch-up",
          "100000 events: read rate (best)", true, 1.0),
      new Ratio("fan-out deliveries/s", "fan-out", "deliveries/s", true, 1.0),
      new Ratio("stream creation, streams/s", "sessions", "streams created/s (PUT + first append)",
          true, 1.0),
      new Ratio("long session: append in batches of 500, events/s", "long-session",
          "append rate", true, 1.0),
      new Ratio("first full read after a restart, p50", "recovery",
          "first full read after restart p50", false, 2.0));

  static final List<Check> ISSUE_13_LIMITS = List.of(
      new Check("live heap per idle session", "sessions", "server live heap per idle stream",
          false, 2048, "bytes, after a full GC", false),
      new Check("live heap per idle WebSocket", "connections", "server live heap per connection",
          false, 16_384, "bytes, after a full GC; Tether's session WebSocket (the peer: SSE)",
          false),
      new Check("long session: WebSocket resume / HTTP catch-up, delta granularity",
          "long-session", "WebSocket resume / HTTP catch-up, delta granularity", false, 2,
          "same session, same node, from -1", false),
      new Check("long session: WebSocket resume / HTTP catch-up, message granularity",
          "long-session", "WebSocket resume / HTTP catch-up, message granularity", false, 2,
          "same session, same node, from -1", false),
      new Check("long session: first request after a restart", "long-session",
          "first request after a restart (read at the tail)", false, 100,
          "ms, at 200,000 events (full scale)", true));

  private IssueTargets() {}

  /** The value of {@code metric} ("*" matches any prefix) in {@code scenario} of {@code run}. */
  static Optional<Double> value(TargetRun run, String scenario, String metric) {
    return run.results().stream().filter(r -> r.scenario().equals(scenario)).findFirst()
        .flatMap(r -> find(r, metric)).map(Metric::value);
  }

  private static Optional<Metric> find(ScenarioResult r, String metric) {
    if (!metric.startsWith("*")) {
      return r.metric(metric);
    }
    return r.metrics().stream().filter(m -> m.name().endsWith(metric.substring(1))
        && !m.name().startsWith("1 ")).findFirst();
  }

  static void render(StringBuilder md, List<TargetRun> targets, boolean quick) {
    md.append("\n## Issue 8 targets\n\n| target | limit | condition |");
    targets.forEach(t -> md.append(' ').append(t.target()).append(" |"));
    md.append("\n|---|---:|---|");
    targets.forEach(t -> md.append("---|"));
    md.append('\n');
    for (Check c : ISSUE_8) {
      renderCheck(md, c, targets, quick);
    }
    Optional<TargetRun> tether = targets.stream().filter(t -> t.target().equals("tether"))
        .findFirst();
    Optional<TargetRun> peer = targets.stream().filter(t -> t.target().equals("peer"))
        .findFirst();
    if (tether.isEmpty() || peer.isEmpty()) {
      return;
    }
    md.append("\n## Issue 13 targets (Tether/peer in this run)\n\n");
    if (quick) {
      md.append("Quick scale: the ratios are of reduced loads and shortened benches, not of "
          + "record.\n\n");
    }
    md.append("| target | limit | tether | peer | tether/peer | verdict |\n"
        + "|---|---:|---:|---:|---:|---|\n");
    for (Ratio r : ISSUE_13_RATIOS) {
      Optional<Double> a = value(tether.get(), r.scenario(), r.metric());
      Optional<Double> b = value(peer.get(), r.scenario(), r.metric());
      md.append("| ").append(r.description()).append(" | ")
          .append(r.atLeast() ? ">= " : "<= ").append(String.format(Locale.ROOT, "%.1fx",
              r.limit())).append(" | ").append(a.map(MarkdownReport::number).orElse("-"))
          .append(" | ").append(b.map(MarkdownReport::number).orElse("-")).append(" | ");
      if (a.isPresent() && b.isPresent() && b.get() != 0) {
        double ratio = a.get() / b.get();
        boolean met = r.atLeast() ? ratio >= r.limit() : ratio <= r.limit();
        md.append(String.format(Locale.ROOT, "%.2f", ratio)).append(" | ")
            .append(met ? "met" : "missed");
      } else if (b.isPresent()) {
        md.append("- | missed (no figure for tether: see the scenario's notes)");
      } else {
        md.append("- | not measured");
      }
      md.append(" |\n");
    }
    md.append("\n| limit on tether | limit | condition | tether |\n|---|---:|---|---|\n");
    for (Check c : ISSUE_13_LIMITS) {
      md.append("| ").append(c.description()).append(c.atLeast() ? " | >= " : " | <= ")
          .append(MarkdownReport.number(c.limit())).append(" | ").append(c.condition())
          .append(" | ");
      Optional<Double> v = value(tether.get(), c.scenario(), c.metric());
      md.append(v.map(MarkdownReport::number).orElse("-")).append(" (")
          .append(c.verdict(v, quick)).append(") |\n");
    }
  }

  private static void renderCheck(StringBuilder md, Check c, List<TargetRun> targets,
      boolean quick) {
    md.append("| ").append(c.description()).append(" | ").append(c.atLeast() ? ">= " : "<= ")
        .append(MarkdownReport.number(c.limit())).append(" | ").append(c.condition())
        .append(" |");
    for (TargetRun t : targets) {
      Optional<Double> v = value(t, c.scenario(), c.metric());
      md.append(' ').append(v.map(MarkdownReport::number).orElse("-")).append(" (")
          .append(c.verdict(v, quick)).append(") |");
    }
    md.append('\n');
  }
}
