package io.tether.benchmarks.load.report;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IssueTargetsTest {
  private static ScenarioResult scenario(String id, Metric... metrics) {
    return new ScenarioResult(id, id, Map.of(), "ok", 1, List.of(metrics), List.of(), List.of(),
        List.of());
  }

  private static Metric m(String name, double value) {
    return new Metric(name, value, "", Metric.Better.NEITHER);
  }

  private static String render(TargetRun tether, TargetRun peer) {
    StringBuilder md = new StringBuilder();
    IssueTargets.render(md, List.of(tether, peer), false);
    return md.toString();
  }

  @Test
  void judgesRatiosOfTetherToThePeerAndLiveHeapNotRss() {
    TargetRun tether = new TargetRun("tether", "-", Map.of(), "ok", List.of(
        scenario("peer-suite", m("small messages, mean", 200)),
        scenario("recovery", m("first full read after restart p50", 30)),
        scenario("sessions", m("server RSS per idle stream", 700),
            m("server live heap per idle stream", 4500))));
    TargetRun peer = new TargetRun("peer", "-", Map.of(), "ok", List.of(
        scenario("peer-suite", m("small messages, mean", 100), m("large messages, mean", 50)),
        scenario("recovery", m("first full read after restart p50", 10))));

    String md = render(tether, peer);

    assertTrue(md.contains(
        "| peer suite: small messages, msg/s | >= 1.0x | 200 | 100 | 2.00 | met |"), md);
    assertTrue(md.contains("| peer suite: large messages, msg/s | >= 1.0x | - | 50 | - | missed "
        + "(no figure for tether"), md);
    assertTrue(md.contains("| first full read after a restart, p50 | <= 2.0x | 30 | 10 | 3.00 | "
        + "missed |"), md);
    assertTrue(md.contains("| memory per idle session | <= 2,048 | live heap after a full GC, "
        + "bytes (the RSS figure is in the scenario) | 4,500 (missed) |"), md);
  }
}
