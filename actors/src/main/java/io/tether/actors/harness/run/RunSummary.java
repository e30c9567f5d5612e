package io.tether.actors.harness.run;

import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.run.RunState.SprintResult;
import io.tether.persistence.TetherSerializable;
import java.util.List;
import java.util.Map;

/**
 * What a client sees of a run: the reply to every client command of {@link RunCommand}.
 *
 * @param scripted whether any role replays a recorded script instead of calling a model
 * @param activeRole the role performing the current task (null between tasks)
 * @param activeTask the current task's kind (null between tasks)
 * @param outcome why the run ended (null while it runs)
 * @param report the final report (null while it runs)
 * @param spendByRole what each role has spent (by wire name)
 * @param spendBySprint what each sprint has spent (its number; 0 is planning)
 */
public record RunSummary(
    String runId,
    String sessionId,
    String prompt,
    Phase phase,
    int sprint,
    int attempt,
    int round,
    boolean paused,
    List<String> sprints,
    List<SprintResult> results,
    long inputTokens,
    long outputTokens,
    double usd,
    Map<String, String> models,
    boolean scripted,
    String activeRole,
    String activeTask,
    String outcome,
    String report,
    Map<String, RunState.Spend> spendByRole,
    Map<String, RunState.Spend> spendBySprint) implements TetherSerializable {

  /** The summary of {@code s}. */
  public static RunSummary of(RunState s) {
    RunState.Setup setup = s.setup();
    RunState.Progress progress = s.progress();
    boolean scripted = setup != null && setup.models().values().stream()
        .anyMatch(m -> ModelRef.parse(m).provider().equals(ScriptedProvider.NAME));
    return new RunSummary(s.runId(), setup == null ? null : setup.sessionId(),
        setup == null ? null : setup.prompt(), progress.phase(), progress.sprint(),
        progress.attempt(), progress.round(), progress.paused(), s.artifacts().sprints(),
        s.results(), s.ledger().inputTokens(), s.ledger().outputTokens(), s.ledger().usd(),
        setup == null ? Map.of() : setup.models(), scripted,
        s.currentTask() == null ? null : s.currentTask().role().wireName(),
        s.currentTask() == null ? null : s.currentTask().kind().name().toLowerCase(),
        s.outcome(), progress.phase().terminal()
            ? RunFlow.report(s, progress.phase(), s.outcome() == null ? "" : s.outcome())
            : null, s.ledger().byRole(), s.ledger().bySprint());
  }
}
