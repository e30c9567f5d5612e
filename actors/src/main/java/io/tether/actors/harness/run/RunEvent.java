package io.tether.actors.harness.run;

import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.persistence.TetherSerializable;
import java.util.List;
import java.util.Map;

/**
 * What happened to a {@link Run}: its journal. {@link RunState} says what each event changes.
 *
 * <p>Journaled by Pekko's Jackson serializer with the class name as manifest: renaming or moving
 * one of these records needs a migration in {@code tether-serialization.conf} (see {@link
 * io.tether.actors.harness.HarnessClassRenames}), and a new one a golden entry in {@code
 * HarnessJournalCompatibilityTest}.
 */
public sealed interface RunEvent extends TetherSerializable
    permits RunEvent.RunStarted, RunEvent.TaskDispatched, RunEvent.SpecAccepted,
        RunEvent.ContractProposed, RunEvent.ContractReviewed, RunEvent.BuildReported,
        RunEvent.SprintEvaluated, RunEvent.PhaseEntered, RunEvent.RunPaused, RunEvent.RunResumed,
        RunEvent.SteerReceived, RunEvent.UsageSettled, RunEvent.RunEnded {

  /** The run started. */
  record RunStarted(String prompt, Map<String, String> models, RunPolicy policy,
      String sessionId, long startedAtMillis) implements RunEvent {}

  /** A task was handed to a role (and the pending steers with it). */
  record TaskDispatched(RoleTask task) implements RunEvent {}

  /** The planner's spec was accepted, split into these sprints. */
  record SpecAccepted(String spec, List<String> sprints) implements RunEvent {}

  /** The generator proposed a sprint contract. */
  record ContractProposed(int sprint, int round, String contract) implements RunEvent {}

  /** The evaluator reviewed the contract; forced = building without agreement. */
  record ContractReviewed(int sprint, int round, boolean agreed, String comments,
      boolean forced) implements RunEvent {}

  /** The generator finished a build attempt. */
  record BuildReported(int sprint, int attempt, String summary) implements RunEvent {}

  /** The evaluator's scores, checked against the rubric's thresholds. */
  record SprintEvaluated(int sprint, int attempt, Map<String, Double> scores, double weighted,
      boolean passed, List<String> misses, String feedback) implements RunEvent {}

  /** The run moved to a phase. */
  record PhaseEntered(Phase phase, int sprint, int attempt, int round) implements RunEvent {}

  /** The run was paused. */
  record RunPaused() implements RunEvent {}

  /** The run was resumed. */
  record RunResumed() implements RunEvent {}

  /** A human steer message arrived. */
  record SteerReceived(String controlId, String text) implements RunEvent {}

  /**
   * A model call's usage was settled: {@code sprint} is the sprint of the task that made it (0
   * for planning; null in journals written before it was recorded), {@code estimated} says the
   * tokens are an estimate (an attempt cut off by a crash or a broken stream, whose prompt the
   * provider received but whose usage never came back).
   */
  record UsageSettled(String callId, Role role, String model, long inputTokens,
      long outputTokens, double usd, Integer sprint, Boolean estimated) implements RunEvent {

    /** A settlement as journals before per-sprint spend recorded it. */
    public UsageSettled(String callId, Role role, String model, long inputTokens,
        long outputTokens, double usd) {
      this(callId, role, model, inputTokens, outputTokens, usd, null, null);
    }
  }

  /** The run ended: completed, failed, cancelled or budget-exhausted. */
  record RunEnded(Phase outcome, String reason) implements RunEvent {}
}
