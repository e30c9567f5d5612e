package io.tether.actors.harness.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.run.RunEvent.BuildReported;
import io.tether.actors.harness.run.RunEvent.ContractProposed;
import io.tether.actors.harness.run.RunEvent.ContractReviewed;
import io.tether.actors.harness.run.RunEvent.PhaseEntered;
import io.tether.actors.harness.run.RunEvent.RunEnded;
import io.tether.actors.harness.run.RunEvent.RunStarted;
import io.tether.actors.harness.run.RunEvent.SpecAccepted;
import io.tether.actors.harness.run.RunEvent.SprintEvaluated;
import io.tether.actors.harness.run.RunPolicy.Criterion;
import io.tether.actors.harness.run.RunState.SprintResult;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.harness.task.TaskOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The harness's transition rules, as pure functions of the Run's state: what a start needs and
 * where it leads, which task the current phase asks of which role (with its prompt and
 * structured hand-off), what a role's result means (the spec's sprints, a contract review's
 * verdict, an evaluation's scores against the rubric's hard thresholds) and where the run goes
 * next, and when the budget is spent. The model never decides whether a sprint passed: its
 * scores are checked against the thresholds here. {@link Run} persists what these rules return.
 */
public final class RunFlow {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SPRINT_HEADING =
      Pattern.compile("(?m)^#{2,3}\\s*Sprint\\s*\\d+\\s*[:.\\-\u2013]\\s*(.+?)\\s*$");

  private RunFlow() {}

  /** Why {@code start} cannot start a run (a role without a valid model, no prompt), or null. */
  static String refusal(RunCommand.Start start) {
    for (Role role : Role.values()) {
      String model = start.models().get(role.wireName());
      if (model == null) {
        return "no model given for the " + role.wireName();
      }
      try {
        ModelRef.parse(model);
      } catch (IllegalArgumentException e) {
        return e.getMessage();
      }
    }
    if (start.prompt() == null || start.prompt().isBlank()) {
      return "a prompt is required";
    }
    return null;
  }

  /** A run's first events: it starts, and planning begins. */
  static List<RunEvent> start(RunCommand.Start start, long nowMillis) {
    List<RunEvent> events = new ArrayList<>();
    events.add(new RunStarted(start.prompt(), Map.copyOf(start.models()), start.policy(),
        start.sessionId(), nowMillis));
    events.add(new PhaseEntered(Phase.PLANNING, 0, 1, 0));
    return events;
  }

  /** The id of the next task the run dispatches. */
  static String nextTaskId(RunState s) {
    return "t" + (s.taskSeq() + 1);
  }

  /** Which role performs the current phase's task, and what it is. */
  public static RoleTask taskFor(RunState s, String taskId) {
    RunState.Progress p = s.progress();
    RunState.Artifacts a = s.artifacts();
    RunPolicy policy = s.setup().policy();
    Role role;
    TaskKind kind;
    StringBuilder prompt = new StringBuilder();
    switch (p.phase()) {
      case PLANNING -> {
        role = Role.PLANNER;
        kind = TaskKind.PLAN;
        prompt.append("Product prompt:\n").append(s.setup().prompt()).append("\n\n")
            .append("Expand this into a product-level spec: what the product does, for whom, its"
                + " features and the user-visible behaviour, not the implementation.");
        if (policy.sprints()) {
          prompt.append(" Split the work into ordered sprints, each under a heading"
              + " `## Sprint N: <title>`.");
        }
        prompt.append(" Your final answer is the spec in Markdown; the harness saves it as"
            + " spec.md.");
      }
      case CONTRACT_PROPOSAL -> {
        role = Role.GENERATOR;
        kind = TaskKind.PROPOSE_CONTRACT;
        handOff(prompt, s, false);
        prompt.append("Propose the contract for sprint ").append(p.sprint())
            .append(": what you will build and exactly how success is verified (the commands"
                + " the evaluator will run and what they must show). Your final answer is the"
                + " contract in Markdown; it is saved as ").append(contractFile(p.sprint()))
            .append(".");
        if (a.contractComments() != null && !a.contractComments().isBlank()) {
          prompt.append("\n\nThe evaluator's comments on your previous proposal:\n")
              .append(a.contractComments());
        }
      }
      case CONTRACT_REVIEW -> {
        role = Role.EVALUATOR;
        kind = TaskKind.REVIEW_CONTRACT;
        handOff(prompt, s, true);
        prompt.append("Review the generator's proposed contract for sprint ").append(p.sprint())
            .append(" (round ").append(p.round()).append(" of ").append(policy.contractRounds())
            .append("). Is it complete against the spec, and is every claim verifiable? Answer"
                + " with JSON only: {\"agreed\": true|false, \"comments\": \"...\"}.");
      }
      case BUILDING -> {
        role = Role.GENERATOR;
        kind = TaskKind.BUILD;
        handOff(prompt, s, true);
        prompt.append("Build sprint ").append(p.sprint()).append(" (attempt ")
            .append(p.attempt()).append(" of ").append(policy.attemptsPerSprint())
            .append(") with your tools, so that the contract's checks pass. Your final answer is"
                + " a short summary of what you built.");
        if (p.attempt() > 1 && a.feedback() != null) {
          prompt.append("\n\nThe evaluator failed the previous attempt. Its feedback:\n")
              .append(a.feedback());
        }
      }
      case EVALUATING -> {
        role = Role.EVALUATOR;
        kind = TaskKind.EVALUATE;
        handOff(prompt, s, true);
        boolean whole = policy.evaluator() == RunPolicy.EvaluatorMode.AT_END;
        prompt.append(whole ? "Verify the whole product against the spec and the contracts"
                : "Verify sprint " + p.sprint() + " against its contract")
            .append(" with live tools: run the tests and commands the contract names, probe a"
                + " started app over HTTP if there is one")
            .append(policy.grantsFor(Role.EVALUATOR.wireName()).stream()
                .anyMatch(g -> g.server().equals("browser"))
                ? ", and use it in the browser like a user (navigate, click, type, read the"
                    + " page snapshot, take a screenshot of what you find)" : "")
            .append(". The generator says: ")
            .append(a.buildSummary() == null ? "(nothing)" : a.buildSummary())
            .append("\n\nScore each criterion from 0 to 10:\n");
        for (Criterion c : policy.rubric()) {
          prompt.append("- ").append(c.name()).append(" (passes at ").append(c.threshold())
              .append(")\n");
        }
        prompt.append("Answer with JSON only: {\"scores\": {\"<criterion>\": <score>, ...},"
            + " \"feedback\": \"specific, actionable findings\"}.");
      }
      default -> throw new IllegalStateException("no task in phase " + p.phase());
    }
    if (!s.pendingSteers().isEmpty()) {
      prompt.append("\n\nMessages from the human steering this run (take them into account):");
      s.pendingSteers().forEach(m -> prompt.append("\n- ").append(m.text()));
    }
    return new RoleTask(taskId, s.runId(), s.setup().sessionId(), role, kind, p.sprint(),
        p.attempt(), p.round(), s.setup().models().get(role.wireName()), prompt.toString(),
        policy.context() == RunPolicy.ContextMode.RESET,
        s.pendingSteers().stream().map(RunState.Steer::text).toList(),
        s.pendingSteers().stream().map(RunState.Steer::id).toList(),
        policy.grantsFor(role.wireName()),
        policy.context() == RunPolicy.ContextMode.COMPACT ? policy.compactAboveTokens() : 0,
        policy.egress());
  }

  private static void handOff(StringBuilder prompt, RunState s, boolean withContract) {
    RunState.Progress p = s.progress();
    List<String> sprints = s.artifacts().sprints();
    prompt.append("Hand-off (the files are in the workspace: spec.md, contracts/, evaluations/,"
            + " progress.md).\n\nSpec:\n").append(s.artifacts().spec()).append("\n\n")
        .append("Current sprint ").append(p.sprint()).append(" of ").append(sprints.size())
        .append(": ").append(sprints.get(p.sprint() - 1)).append("\n\n");
    if (withContract && s.artifacts().contract() != null) {
      prompt.append("Contract (").append(contractFile(p.sprint())).append("):\n")
          .append(s.artifacts().contract()).append("\n\n");
    }
  }

  /** The workspace file of a sprint's contract. */
  public static String contractFile(int sprint) {
    return "contracts/sprint-" + sprint + ".md";
  }

  /** The workspace file of an evaluation. */
  public static String evaluationFile(int sprint, int attempt) {
    return "evaluations/sprint-" + sprint + "-attempt-" + attempt + ".md";
  }

  /**
   * What a role's reported task means: a failed task ends the run (as budget-exhausted when the
   * role ran out of budget), a result is {@linkplain #interpret interpreted}.
   */
  static List<RunEvent> afterTask(RunState s, RoleTask task, TaskOutcome outcome) {
    if (outcome.succeeded()) {
      return interpret(s, task, outcome.output());
    }
    boolean budget = outcome.output() != null && outcome.output().startsWith("budget:");
    List<RunEvent> events = new ArrayList<>();
    events.add(new RunEnded(budget ? Phase.BUDGET_EXHAUSTED : Phase.FAILED,
        "the " + outcome.role().wireName() + " failed " + task.kind().name().toLowerCase()
            + ": " + outcome.output()));
    return events;
  }

  /**
   * What a role's successful result means: the events recording it and moving the run on (to
   * the next phase, or to its end).
   */
  public static List<RunEvent> interpret(RunState s, RoleTask task, String output) {
    RunState.Progress p = s.progress();
    RunPolicy policy = s.setup().policy();
    List<RunEvent> events = new ArrayList<>();
    switch (task.kind()) {
      case PLAN -> {
        List<String> sprints = policy.sprints() ? sprints(output) : List.of();
        if (sprints.isEmpty()) {
          sprints = List.of("Build the whole spec");
        }
        events.add(new SpecAccepted(output, sprints));
        events.add(sprintStart(policy, 1));
      }
      case PROPOSE_CONTRACT -> {
        events.add(new ContractProposed(p.sprint(), p.round(), output));
        events.add(new PhaseEntered(Phase.CONTRACT_REVIEW, p.sprint(), 1, p.round()));
      }
      case REVIEW_CONTRACT -> {
        JsonNode review = json(output);
        boolean agreed = review != null && review.path("agreed").asBoolean(false);
        String comments = review != null ? review.path("comments").asText("") : output;
        boolean last = p.round() >= policy.contractRounds();
        events.add(new ContractReviewed(p.sprint(), p.round(), agreed, comments,
            !agreed && last));
        events.add(agreed || last
            ? new PhaseEntered(Phase.BUILDING, p.sprint(), 1, p.round())
            : new PhaseEntered(Phase.CONTRACT_PROPOSAL, p.sprint(), 1, p.round() + 1));
      }
      case BUILD -> {
        events.add(new BuildReported(p.sprint(), p.attempt(), output));
        boolean lastSprint = p.sprint() >= s.artifacts().sprints().size();
        if (policy.evaluator() == RunPolicy.EvaluatorMode.PER_SPRINT || lastSprint) {
          events.add(new PhaseEntered(Phase.EVALUATING, p.sprint(), p.attempt(), p.round()));
        } else {
          events.add(sprintStart(policy, p.sprint() + 1));
        }
      }
      case EVALUATE -> {
        SprintEvaluated evaluation = score(policy.rubric(), p.sprint(), p.attempt(), output);
        events.add(evaluation);
        boolean lastSprint = p.sprint() >= s.artifacts().sprints().size();
        if (evaluation.passed()) {
          if (lastSprint || policy.evaluator() == RunPolicy.EvaluatorMode.AT_END) {
            events.add(new RunEnded(Phase.COMPLETED, "every sprint passed"));
          } else {
            events.add(sprintStart(policy, p.sprint() + 1));
          }
        } else if (p.attempt() < policy.attemptsPerSprint()) {
          events.add(new PhaseEntered(Phase.BUILDING, p.sprint(), p.attempt() + 1,
              p.round()));
        } else {
          events.add(new RunEnded(Phase.FAILED, "sprint " + p.sprint() + " failed after "
              + p.attempt() + " attempts: " + String.join(", ", evaluation.misses())));
        }
      }
      default -> throw new IllegalStateException("unknown task kind " + task.kind());
    }
    return events;
  }

  private static PhaseEntered sprintStart(RunPolicy policy, int sprint) {
    return policy.contractRounds() > 0
        ? new PhaseEntered(Phase.CONTRACT_PROPOSAL, sprint, 1, 1)
        : new PhaseEntered(Phase.BUILDING, sprint, 1, 0);
  }

  /** The sprint titles of a spec: its {@code ## Sprint N: title} headings, in order. */
  public static List<String> sprints(String spec) {
    List<String> out = new ArrayList<>();
    Matcher m = SPRINT_HEADING.matcher(spec);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /**
   * Scores an evaluation against the rubric: a criterion the evaluator did not score counts as 0;
   * any score under its threshold is a miss and fails the sprint.
   */
  public static SprintEvaluated score(List<Criterion> rubric, int sprint, int attempt,
      String output) {
    JsonNode answer = json(output);
    Map<String, Double> scores = new LinkedHashMap<>();
    List<String> misses = new ArrayList<>();
    double weighted = 0;
    double weights = 0;
    for (Criterion c : rubric) {
      double score = answer == null ? 0 : answer.path("scores").path(c.name()).asDouble(0);
      scores.put(c.name(), score);
      weighted += c.weight() * score;
      weights += c.weight();
      if (score < c.threshold()) {
        misses.add(c.name() + " " + fmt(score) + " < " + fmt(c.threshold()));
      }
    }
    String feedback = answer == null
        ? "The evaluation was not the JSON asked for; every criterion scores 0. It said: " + output
        : answer.path("feedback").asText("");
    return new SprintEvaluated(sprint, attempt, scores,
        weights == 0 ? 0 : weighted / weights, misses.isEmpty(), misses, feedback);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.1f", d);
  }

  /** The first JSON object in a model's answer, or null. */
  static JsonNode json(String output) {
    if (output == null) {
      return null;
    }
    int start = output.indexOf('{');
    int end = output.lastIndexOf('}');
    if (start < 0 || end <= start) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(output.substring(start, end + 1));
      return node.isObject() ? node : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Which budget limit of the run is spent at {@code nowMillis}, or null if none is. */
  static String exceeded(RunState s, long nowMillis) {
    RunPolicy.Budget b = s.setup().policy().budget();
    RunState.Ledger l = s.ledger();
    long tokens = l.inputTokens() + l.outputTokens();
    if (b.maxTokens() > 0 && tokens >= b.maxTokens()) {
      return "token budget spent: " + tokens + " of " + b.maxTokens();
    }
    if (b.maxUsd() > 0 && l.usd() >= b.maxUsd()) {
      return String.format(Locale.ROOT, "USD budget spent: %.4f of %.2f", l.usd(), b.maxUsd());
    }
    long elapsed = nowMillis - s.setup().startedAtMillis();
    if (b.maxWallClockMillis() > 0 && elapsed >= b.maxWallClockMillis()) {
      return "wall-clock budget spent: " + Duration.ofMillis(elapsed).toSeconds() + "s of "
          + Duration.ofMillis(b.maxWallClockMillis()).toSeconds() + "s";
    }
    return null;
  }

  /** The final report: what passed, what did not, and what it cost. */
  public static String report(RunState s, Phase outcome, String reason) {
    StringBuilder r = new StringBuilder("# Run ").append(s.runId()).append(": ")
        .append(outcome.name().toLowerCase()).append("\n\n").append(reason).append("\n\n");
    if (s.setup().models().values().stream().anyMatch(m -> m.startsWith("scripted:"))) {
      r.append("SCRIPTED: some roles replayed a recorded script instead of calling a model ")
          .append(s.setup().models()).append(".\n\n");
    }
    List<String> sprints = s.artifacts().sprints();
    for (int i = 1; i <= sprints.size(); i++) {
      final int sprint = i;
      List<SprintResult> results = s.results().stream()
          .filter(x -> x.sprint() == sprint).toList();
      r.append("- Sprint ").append(i).append(" (").append(sprints.get(i - 1)).append("): ");
      if (results.isEmpty()) {
        r.append("not evaluated");
      } else {
        SprintResult lastResult = results.get(results.size() - 1);
        r.append(lastResult.passed() ? "PASSED" : "FAILED").append(" after ")
            .append(results.size()).append(" evaluated attempt(s), scores ")
            .append(lastResult.scores());
      }
      r.append("\n");
    }
    RunState.Ledger l = s.ledger();
    r.append("\nBudget used: ").append(l.inputTokens()).append(" input + ")
        .append(l.outputTokens()).append(" output tokens, USD ")
        .append(String.format(Locale.ROOT, "%.4f", l.usd())).append("\n");
    l.byRole().forEach((role, spend) -> r.append("- ").append(role).append(": ")
        .append(spend(spend)).append("\n"));
    l.bySprint().forEach((sprint, spend) -> r.append("- ")
        .append(sprint.equals("0") ? "planning" : "sprint " + sprint).append(": ")
        .append(spend(spend)).append("\n"));
    return r.toString();
  }

  private static String spend(RunState.Spend s) {
    return s.inputTokens() + " input + " + s.outputTokens() + " output tokens, USD "
        + String.format(Locale.ROOT, "%.4f", s.usd()) + " in " + s.calls() + " call(s)"
        + (s.estimated() > 0 ? " (" + s.estimated() + " estimated)" : "");
  }
}
