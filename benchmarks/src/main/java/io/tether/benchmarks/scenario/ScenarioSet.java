package io.tether.benchmarks.scenario;

import java.util.List;

/** The scenarios of a run, in the order they run, at full or quick scale. */
public final class ScenarioSet {
  private ScenarioSet() {}

  /** Every scenario; {@code only} (ids) narrows the set when it is not empty. */
  public static List<Scenario> of(boolean quick, String live, List<String> only) {
    List<Scenario> all = List.of(
        new TokenStreaming(quick ? TokenStreaming.quick(live) : TokenStreaming.full(live)),
        new ThroughputCeiling(quick ? ThroughputCeiling.quick() : ThroughputCeiling.full()),
        new CatchUp(quick ? CatchUp.quick() : CatchUp.full()),
        new FanOut(quick ? FanOut.quick(live) : FanOut.full(live)),
        new IdleConnections(quick ? IdleConnections.quick(live) : IdleConnections.full(live)),
        new IdleSessions(quick ? IdleSessions.quick() : IdleSessions.full()),
        new Recovery(quick ? Recovery.quick() : Recovery.full()),
        new Failover());
    if (only.isEmpty()) {
      return all;
    }
    for (String id : only) {
      if (all.stream().noneMatch(s -> s.id().equals(id))) {
        throw new IllegalArgumentException("unknown scenario " + id);
      }
    }
    return all.stream().filter(s -> only.contains(s.id())).toList();
  }
}
