package io.tether.benchmarks.scenario;

import io.tether.benchmarks.result.ScenarioResult;

/**
 * Scenario 7, failover: the time from killing the node that holds a stream to the first event
 * delivered to a subscriber attached elsewhere. A hook only: it needs a three-node target and a
 * way to kill one node, which arrive with the cluster issue. Planned shape: subscribe through
 * node B to a stream whose entity lives on node A, write continuously through node C, SIGKILL A,
 * and report the gap between the last delivery before the kill and the first after it, plus
 * any gap or duplicate in the offsets delivered.
 */
public final class Failover implements Scenario {
  /** The parameters, recorded with the results. */
  public record Params(String requires) {}

  @Override
  public String id() {
    return "failover";
  }

  @Override
  public String title() {
    return "7. Failover (node kill to first delivery)";
  }

  @Override
  public Object params() {
    return new Params("a three-node target with a kill hook (cluster issue)");
  }

  @Override
  public int maxSeconds() {
    return 10;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) {
    return ScenarioResult.without(id(), title(), params(),
        "skipped: needs a multi-node target; single-node runs have no failover to measure");
  }
}
