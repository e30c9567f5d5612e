package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.result.ScenarioResult;

/**
 * One measurement against one target. A scenario bounds its own count and time, stops by
 * itself, creates only streams whose names start with the run's prefix, and reports failures
 * in its result rather than throwing when it can.
 */
public interface Scenario {
  /** Stable identifier used in results and on the command line. */
  String id();

  /** One line for the tables. */
  String title();

  /** The exact parameters (a record), recorded with the results. */
  Object params();

  /** The longest the scenario may take before the run gives up on it. */
  int maxSeconds();

  /**
   * Whether the scenario loads the target itself; false for one that runs servers of its own
   * (failover), whose CPU is then recorded with the generator's (it started them) beside the
   * idle target's.
   */
  default boolean measuresTarget() {
    return true;
  }

  ScenarioResult run(ScenarioContext context) throws Exception;
}
