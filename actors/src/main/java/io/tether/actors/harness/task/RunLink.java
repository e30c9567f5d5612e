package io.tether.actors.harness.task;

import io.tether.actors.harness.model.TokenUsage;
import java.util.concurrent.CompletionStage;

/** What a role needs from its Run: the budget ledger and the place to report a task's end. */
public interface RunLink {

  /** Asks the Run whether a model call may start; the stage holds the decision. */
  CompletionStage<BudgetDecision> reserve(String runId, String callId, Role role, String model);

  /** Settles a completed model call's usage; idempotent per call id. */
  CompletionStage<Ack> settle(String runId, String callId, Role role, String model,
      TokenUsage usage);

  /**
   * Settles a model call attempt's usage for the task's {@code sprint}; {@code estimated} when
   * the tokens are an estimate (an attempt cut off by a crash or a broken stream). Idempotent
   * per call id.
   */
  default CompletionStage<Ack> settle(String runId, String callId, Role role, String model,
      TokenUsage usage, int sprint, boolean estimated) {
    return settle(runId, callId, role, model, usage);
  }

  /** Reports a task's end; idempotent per task id. */
  CompletionStage<Ack> report(String runId, TaskOutcome outcome);
}
