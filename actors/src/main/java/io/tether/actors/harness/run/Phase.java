package io.tether.actors.harness.run;

/** Where a run is. */
public enum Phase {
  NEW, PLANNING, CONTRACT_PROPOSAL, CONTRACT_REVIEW, BUILDING, EVALUATING,
  COMPLETED, FAILED, CANCELLED, BUDGET_EXHAUSTED;

  /** Whether the run has ended. */
  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED || this == BUDGET_EXHAUSTED;
  }
}
