package io.tether.benchmarks.load.result;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * The outcome of one scenario on one target: the exact parameters it ran with, its metrics,
 * latencies and timelines, notes on anything that qualifies the figures, and a status
 * ({@code ok}, {@code failed: ...}, {@code skipped: ...}).
 */
public record ScenarioResult(String scenario, String title, Object params, String status,
    double seconds, List<Metric> metrics, List<LatencySummary> latencies, List<Timeline> timelines,
    List<String> notes) {

  public Optional<Metric> metric(String name) {
    return metrics.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  public Optional<LatencySummary> latency(String name) {
    return latencies.stream().filter(l -> l.name().equals(name)).findFirst();
  }

  /** A result with no figures, for a scenario that could not run. */
  public static ScenarioResult without(String scenario, String title, Object params,
      String status) {
    return new ScenarioResult(scenario, title, params, status, 0, List.of(), List.of(), List.of(),
        List.of());
  }

  /** Collects the figures of a scenario while it runs. */
  public static final class Builder {
    private final String scenario;
    private final String title;
    private final Object params;
    private final long began = System.nanoTime();
    private final List<Metric> metrics = new ArrayList<>();
    private final List<LatencySummary> latencies = new ArrayList<>();
    private final List<Timeline> timelines = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    public Builder(String scenario, String title, Object params) {
      this.scenario = scenario;
      this.title = title;
      this.params = params;
    }

    public Builder metric(String name, double value, String unit, Metric.Better better) {
      metrics.add(new Metric(name, value, unit, better));
      return this;
    }

    /** Adds the summary and its p50/p99/p99.9 as metrics, so they reach the table and the ratio. */
    public Builder latency(String name, Histogram micros) {
      LatencySummary s = LatencySummary.of(name, micros);
      latencies.add(s);
      if (s.count() > 0) {
        metric(name + " p50", s.p50Ms(), "ms", Metric.Better.LOWER);
        metric(name + " p99", s.p99Ms(), "ms", Metric.Better.LOWER);
        metric(name + " p99.9", s.p999Ms(), "ms", Metric.Better.LOWER);
      }
      return this;
    }

    /** Adds a per-second rate; trailing empty seconds (the idle end of a drain) are cut. */
    public Builder timeline(String name, String unit, double[] perSecond) {
      int n = perSecond.length;
      while (n > 1 && perSecond[n - 1] == 0) {
        n--;
      }
      timelines.add(new Timeline(name, unit, java.util.Arrays.copyOf(perSecond, n)));
      return this;
    }

    public Builder note(String note) {
      notes.add(note);
      return this;
    }

    public ScenarioResult build(String status) {
      return new ScenarioResult(scenario, title, params, status,
          (System.nanoTime() - began) / 1e9, List.copyOf(metrics), List.copyOf(latencies),
          List.copyOf(timelines), List.copyOf(notes));
    }
  }
}
