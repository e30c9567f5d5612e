package io.tether.client;

import java.util.concurrent.CancellationException;

/** The session stopped a run (cancel, loss or fence) while work for it was going on. */
public final class RunCancelledException extends CancellationException {
  private static final long serialVersionUID = 1L;

  private final transient AgentRun.Cancellation cancellation;

  /** For {@code run}, stopped as {@code cancellation} says. */
  public RunCancelledException(String run, AgentRun.Cancellation cancellation) {
    super("run " + run + " was " + cancellation.reason()
        + (cancellation.fence() == null ? "" : " at " + cancellation.fence())
        + (cancellation.by() == null ? "" : " by " + cancellation.by()));
    this.cancellation = cancellation;
  }

  /** The fence, who stopped it and why. */
  public AgentRun.Cancellation cancellation() {
    return cancellation;
  }
}
