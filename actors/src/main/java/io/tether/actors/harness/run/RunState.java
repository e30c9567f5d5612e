package io.tether.actors.harness.run;

import io.tether.actors.harness.run.RunEvent.BuildReported;
import io.tether.actors.harness.run.RunEvent.ContractProposed;
import io.tether.actors.harness.run.RunEvent.ContractReviewed;
import io.tether.actors.harness.run.RunEvent.PhaseEntered;
import io.tether.actors.harness.run.RunEvent.RunEnded;
import io.tether.actors.harness.run.RunEvent.RunPaused;
import io.tether.actors.harness.run.RunEvent.RunResumed;
import io.tether.actors.harness.run.RunEvent.RunStarted;
import io.tether.actors.harness.run.RunEvent.SpecAccepted;
import io.tether.actors.harness.run.RunEvent.SprintEvaluated;
import io.tether.actors.harness.run.RunEvent.SteerReceived;
import io.tether.actors.harness.run.RunEvent.TaskDispatched;
import io.tether.actors.harness.run.RunEvent.UsageSettled;
import io.tether.actors.harness.task.RoleTask;
import io.tether.persistence.TetherSerializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run's state, and what each {@link RunEvent} changes in it (an {@code apply} method per
 * event, which {@link Run}'s event handler calls). Immutable: every change is a copy.
 *
 * <p>Snapshotted by Pekko's Jackson serializer: the record components are the snapshot's fields,
 * so renaming one needs a migration (see {@link RunEvent}).
 *
 * @param runId the run
 * @param setup what the run was started with (null before it starts)
 * @param progress where the run is in its flow
 * @param artifacts the hand-off material of the current sprint
 * @param currentTask the task a role is performing (null between tasks)
 * @param taskSeq tasks dispatched so far (task ids are {@code t<n>})
 * @param pendingSteers steer messages waiting for the next task
 * @param results every evaluated attempt
 * @param ledger the budget used
 * @param outcome why the run ended (null while it runs)
 * @param steerIds the steer control ids applied, so a steer replayed from the session applies once
 */
public record RunState(
    String runId,
    Setup setup,
    Progress progress,
    Artifacts artifacts,
    RoleTask currentTask,
    long taskSeq,
    List<Steer> pendingSteers,
    List<SprintResult> results,
    Ledger ledger,
    String outcome,
    List<String> steerIds) implements TetherSerializable {

  /** Steer control ids remembered, so a steer replayed from the session applies once. */
  static final int MAX_STEER_IDS = 500;

  /** What a run was started with. */
  public record Setup(String prompt, String sessionId, Map<String, String> models,
      RunPolicy policy, long startedAtMillis) implements TetherSerializable {}

  /** The run's position in its flow. */
  public record Progress(Phase phase, int sprint, int attempt, int round, boolean paused)
      implements TetherSerializable {

    Progress withPhase(Phase next) {
      return new Progress(next, sprint, attempt, round, paused);
    }

    Progress withPaused(boolean next) {
      return new Progress(phase, sprint, attempt, round, next);
    }
  }

  /**
   * The hand-off material: spec, sprints, the current contract, the latest review and feedback.
   */
  public record Artifacts(String spec, List<String> sprints, String contract,
      String contractComments, String feedback, String buildSummary)
      implements TetherSerializable {

    /** Nothing yet. */
    static Artifacts none() {
      return new Artifacts(null, List.of(), null, null, null, null);
    }

    /** The accepted spec and its sprints, with nothing of any sprint yet. */
    static Artifacts of(String spec, List<String> sprints) {
      return new Artifacts(spec, sprints, null, null, null, null);
    }

    /** The spec and sprints only: a sprint starts afresh. */
    Artifacts forNewSprint() {
      return of(spec, sprints);
    }

    Artifacts withContract(String next) {
      return new Artifacts(spec, sprints, next, contractComments, feedback, buildSummary);
    }

    Artifacts withContractComments(String next) {
      return new Artifacts(spec, sprints, contract, next, feedback, buildSummary);
    }

    Artifacts withFeedback(String next) {
      return new Artifacts(spec, sprints, contract, contractComments, next, buildSummary);
    }

    Artifacts withBuildSummary(String next) {
      return new Artifacts(spec, sprints, contract, contractComments, feedback, next);
    }
  }

  /**
   * The budget ledger: the run's totals, and the same per role (by wire name) and per sprint
   * (its number as text; 0 is planning).
   */
  public record Ledger(long inputTokens, long outputTokens, double usd, Set<String> settled,
      Map<String, Spend> byRole, Map<String, Spend> bySprint) implements TetherSerializable {

    public Ledger {
      settled = settled == null ? Set.of() : settled;
      byRole = byRole == null ? Map.of() : byRole;
      bySprint = bySprint == null ? Map.of() : bySprint;
    }

    static Ledger empty() {
      return new Ledger(0, 0, 0, Set.of(), Map.of(), Map.of());
    }

    Ledger plus(UsageSettled u) {
      Set<String> next = new HashSet<>(settled);
      next.add(u.callId());
      return new Ledger(inputTokens + u.inputTokens(), outputTokens + u.outputTokens(),
          usd + u.usd(), Set.copyOf(next), add(byRole, u.role().wireName(), u),
          u.sprint() == null ? bySprint : add(bySprint, Integer.toString(u.sprint()), u));
    }

    private static Map<String, Spend> add(Map<String, Spend> m, String key, UsageSettled u) {
      Map<String, Spend> next = new java.util.TreeMap<>(m);
      next.merge(key, Spend.of(u), Spend::plus);
      return Map.copyOf(next);
    }
  }

  /**
   * What a part of a run (a role, a sprint) has spent.
   *
   * @param calls model call attempts settled (a retried call counts each attempt)
   * @param estimated attempts among them whose tokens are estimated
   */
  public record Spend(long inputTokens, long outputTokens, double usd, int calls, int estimated)
      implements TetherSerializable {

    static Spend of(UsageSettled u) {
      return new Spend(u.inputTokens(), u.outputTokens(), u.usd(), 1,
          Boolean.TRUE.equals(u.estimated()) ? 1 : 0);
    }

    Spend plus(Spend o) {
      return new Spend(inputTokens + o.inputTokens, outputTokens + o.outputTokens, usd + o.usd,
          calls + o.calls, estimated + o.estimated);
    }
  }

  /** A steer message waiting for the next role task, with the control id that acknowledges it. */
  public record Steer(String id, String text) implements TetherSerializable {}

  /** One evaluated attempt of a sprint. */
  public record SprintResult(int sprint, int attempt, Map<String, Double> scores,
      double weighted, boolean passed) implements TetherSerializable {}

  /** A run that has not started. */
  static RunState empty(String runId) {
    return new RunState(runId, null, new Progress(Phase.NEW, 0, 0, 0, false), Artifacts.none(),
        null, 0, List.of(), List.of(), Ledger.empty(), null, List.of());
  }

  /** Whether the run has started. */
  boolean started() {
    return setup != null;
  }

  /** Whether the run has started and not ended. */
  boolean running() {
    return started() && !progress.phase().terminal();
  }

  // ------------------------------------------------------------ what each event changes

  RunState apply(RunStarted e) {
    return withSetup(new Setup(e.prompt(), e.sessionId(), e.models(), e.policy(),
        e.startedAtMillis())).withCurrentTask(null).withOutcome(null);
  }

  RunState apply(TaskDispatched e) {
    return new RunState(runId, setup, progress, artifacts, e.task(), taskSeq + 1, List.of(),
        results, ledger, outcome, steerIds);
  }

  RunState apply(SpecAccepted e) {
    return withCurrentTask(null).withArtifacts(Artifacts.of(e.spec(), e.sprints()));
  }

  RunState apply(ContractProposed e) {
    return withCurrentTask(null).withArtifacts(artifacts.withContract(e.contract()));
  }

  RunState apply(ContractReviewed e) {
    return withCurrentTask(null).withArtifacts(artifacts.withContractComments(e.comments()));
  }

  RunState apply(BuildReported e) {
    return withCurrentTask(null).withArtifacts(artifacts.withBuildSummary(e.summary()));
  }

  RunState apply(SprintEvaluated e) {
    List<SprintResult> next = new ArrayList<>(results);
    next.add(new SprintResult(e.sprint(), e.attempt(), e.scores(), e.weighted(), e.passed()));
    String feedback = e.passed() ? null : e.feedback() + (e.misses().isEmpty() ? ""
        : "\nBelow threshold: " + String.join(", ", e.misses()));
    return withCurrentTask(null).withArtifacts(artifacts.withFeedback(feedback))
        .withResults(List.copyOf(next));
  }

  RunState apply(PhaseEntered e) {
    RunState next = withProgress(new Progress(e.phase(), e.sprint(), e.attempt(), e.round(),
        progress.paused()));
    return e.phase() == Phase.CONTRACT_PROPOSAL && e.round() == 1
        ? next.withArtifacts(artifacts.forNewSprint()) : next;
  }

  RunState apply(RunPaused e) {
    return withProgress(progress.withPaused(true));
  }

  RunState apply(RunResumed e) {
    return withProgress(progress.withPaused(false));
  }

  RunState apply(SteerReceived e) {
    List<Steer> steers = new ArrayList<>(pendingSteers);
    steers.add(new Steer(e.controlId(), e.text()));
    List<String> ids = new ArrayList<>(steerIds);
    ids.add(e.controlId());
    return new RunState(runId, setup, progress, artifacts, currentTask, taskSeq,
        List.copyOf(steers), results, ledger, outcome,
        List.copyOf(ids.subList(Math.max(0, ids.size() - MAX_STEER_IDS), ids.size())));
  }

  RunState apply(UsageSettled e) {
    return new RunState(runId, setup, progress, artifacts, currentTask, taskSeq, pendingSteers,
        results, ledger.plus(e), outcome, steerIds);
  }

  RunState apply(RunEnded e) {
    return withProgress(progress.withPhase(e.outcome())).withCurrentTask(null)
        .withOutcome(e.reason());
  }

  // ------------------------------------------------------------ copies

  private RunState withSetup(Setup next) {
    return new RunState(runId, next, progress, artifacts, currentTask, taskSeq, pendingSteers,
        results, ledger, outcome, steerIds);
  }

  private RunState withProgress(Progress next) {
    return new RunState(runId, setup, next, artifacts, currentTask, taskSeq, pendingSteers,
        results, ledger, outcome, steerIds);
  }

  private RunState withArtifacts(Artifacts next) {
    return new RunState(runId, setup, progress, next, currentTask, taskSeq, pendingSteers,
        results, ledger, outcome, steerIds);
  }

  private RunState withCurrentTask(RoleTask next) {
    return new RunState(runId, setup, progress, artifacts, next, taskSeq, pendingSteers,
        results, ledger, outcome, steerIds);
  }

  private RunState withResults(List<SprintResult> next) {
    return new RunState(runId, setup, progress, artifacts, currentTask, taskSeq, pendingSteers,
        next, ledger, outcome, steerIds);
  }

  private RunState withOutcome(String next) {
    return new RunState(runId, setup, progress, artifacts, currentTask, taskSeq, pendingSteers,
        results, ledger, next, steerIds);
  }
}
