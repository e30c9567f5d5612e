package io.tether.http.runs;

import io.tether.actors.harness.run.RunSummary;
import java.util.List;
import java.util.Map;

/**
 * A run as clients see it.
 *
 * @param runId the run
 * @param sessionId the run's durable session: watch it over Durable Streams or the WebSocket
 * @param prompt the prompt the run was started with
 * @param phase planning, contract_proposal, contract_review, building, evaluating, completed,
 *     failed, cancelled or budget_exhausted
 * @param sprint the current sprint (1-based; 0 while planning)
 * @param attempt the build attempt within the sprint
 * @param round the contract round
 * @param paused whether the run holds before its next task
 * @param sprints the sprint titles of the spec
 * @param results every evaluated attempt
 * @param budget what the run has used
 * @param models the model per role
 * @param scripted whether any role's output is replayed from a script rather than a model
 * @param activeRole the role working now, or null
 * @param activeTask what it is doing, or null
 * @param outcome why the run ended, or null while it runs
 * @param report the final report, or null while it runs
 */
public record RunView(String runId, String sessionId, String prompt, String phase, int sprint,
    int attempt, int round, boolean paused, List<String> sprints, List<Result> results,
    Budget budget, Map<String, String> models, boolean scripted, String activeRole,
    String activeTask, String outcome, String report) {

  /** One evaluated attempt. */
  public record Result(int sprint, int attempt, Map<String, Double> scores, double weighted,
      boolean passed) {}

  /** What the run has used, in total and per role and per sprint ("0" is planning). */
  public record Budget(long inputTokens, long outputTokens, double usd,
      Map<String, Spend> byRole, Map<String, Spend> bySprint) {}

  /**
   * What a role or a sprint has spent: {@code calls} model call attempts (a retried call counts
   * each), {@code estimated} of them with estimated tokens (cut off before usage came back).
   */
  public record Spend(long inputTokens, long outputTokens, double usd, int calls,
      int estimated) {

    static Map<String, Spend> of(Map<String, io.tether.actors.harness.run.RunState.Spend> m) {
      Map<String, Spend> out = new java.util.TreeMap<>();
      if (m != null) {
        m.forEach((k, v) -> out.put(k, new Spend(v.inputTokens(), v.outputTokens(), v.usd(),
            v.calls(), v.estimated())));
      }
      return out;
    }
  }

  /** Maps the entity's summary to the wire. */
  public static RunView of(RunSummary s) {
    return new RunView(s.runId(), s.sessionId(), s.prompt(), s.phase().name().toLowerCase(),
        s.sprint(), s.attempt(), s.round(), s.paused(), s.sprints(),
        s.results().stream().map(r -> new Result(r.sprint(), r.attempt(), r.scores(),
            r.weighted(), r.passed())).toList(),
        new Budget(s.inputTokens(), s.outputTokens(), s.usd(), Spend.of(s.spendByRole()),
            Spend.of(s.spendBySprint())), s.models(), s.scripted(),
        s.activeRole(), s.activeTask(), s.outcome(), s.report());
  }
}
