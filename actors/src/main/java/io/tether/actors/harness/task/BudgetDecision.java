package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;

/**
 * The Run's answer to a role that asks whether a model call may start.
 *
 * @param granted whether the call may start
 * @param reason why not (null when granted)
 */
public record BudgetDecision(boolean granted, String reason) implements TetherSerializable {

  private static final BudgetDecision GRANTED = new BudgetDecision(true, null);

  /** The call may start. */
  public static BudgetDecision grant() {
    return GRANTED;
  }

  /** The call may not start, because of {@code reason}. */
  public static BudgetDecision refuse(String reason) {
    return new BudgetDecision(false, reason);
  }
}
