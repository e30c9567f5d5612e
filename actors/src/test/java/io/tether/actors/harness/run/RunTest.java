package io.tether.actors.harness.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.HarnessTestSupport;
import io.tether.actors.harness.HarnessTestSupport.RecordingRoleDispatch;
import io.tether.actors.harness.HarnessTestSupport.SpawnedWorkspaces;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.harness.task.TaskOutcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Run's state machine and ledger with the persistence test kit, the roles replaced by a
 * probe that receives every task: the flow through planning, contract rounds, builds and
 * evaluations; thresholds; budget; cancel, steer, pause and resume; recovery re-sends the task.
 */
class RunTest {

  private static final ActorTestKit kit = ActorTestKit.create("RunTest",
      HarnessTestSupport.testKitConfig());
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Map<String, String> MODELS = Map.of("planner", "scripted:demo",
      "generator", "anthropic:claude-sonnet-4-5", "evaluator", "scripted:demo");

  private RecordingRoleDispatch roles;
  private InMemorySessionWriter sessions;
  private EventSourcedBehaviorTestKit<RunCommand, RunEvent, RunState> run;
  private static int runs;
  private String runId;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    roles = new RecordingRoleDispatch(kit);
    sessions = new InMemorySessionWriter();
    runId = "run-" + (++runs);
    var config = kit.system().settings().config();
    RunServices services = new RunServices(roles, new SpawnedWorkspaces(kit), sessions,
        new Pricing(config.getConfig("tether.harness")), RunSettings.fromConfig(config),
        false);
    run = EventSourcedBehaviorTestKit.create(kit.system(), Run.create(runId, services));
  }

  private static RunPolicy policy(int contractRounds, int attempts, RunPolicy.Budget budget) {
    return new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT, RunPolicy.ContextMode.RESET,
        contractRounds, attempts, List.of(new RunPolicy.Criterion("functionality", 0.7, 7),
            new RunPolicy.Criterion("tests", 0.3, 6)), budget);
  }

  private static final RunPolicy.Budget UNLIMITED = new RunPolicy.Budget(0, 0, 0);

  private RoleTask start(RunPolicy policy) {
    var result = run.<StatusReply<RunSummary>>runCommand(
        r -> new RunCommand.Start("A slugifier.", MODELS, policy, "session-" + runId, r));
    assertTrue(result.reply().isSuccess());
    return roles.tasks.expectMessageClass(RoleTask.class, WAIT);
  }

  private RoleTask finish(RoleTask task, String output) {
    var result = run.<Ack>runCommand(
        r -> new RunCommand.ReportTask(
            new TaskOutcome(task.taskId(), task.role(), true, output), r));
    assertEquals(Ack.INSTANCE, result.reply());
    return result.state().progress().phase().terminal() || result.state().progress().paused()
        ? null : roles.tasks.expectMessageClass(RoleTask.class, WAIT);
  }

  private static final String SPEC = "# Spec\n## Sprint 1: Core\nx\n## Sprint 2: Edges\ny\n";
  private static final String PASS = "{\"scores\": {\"functionality\": 8, \"tests\": 7},"
      + " \"feedback\": \"good\"}";
  private static final String FAIL = "{\"scores\": {\"functionality\": 8, \"tests\": 3},"
      + " \"feedback\": \"tests/test.sh exits 1\"}";

  @Test
  void walksPlanContractsBuildsAndEvaluationsFailingAndRetryingASprint() {
    RoleTask plan = start(policy(2, 2, UNLIMITED));
    assertEquals(TaskKind.PLAN, plan.kind());
    assertEquals(Role.PLANNER, plan.role());
    assertTrue(plan.prompt().contains("A slugifier."));

    RoleTask propose = finish(plan, SPEC);
    assertEquals(TaskKind.PROPOSE_CONTRACT, propose.kind());
    assertEquals(List.of("Core", "Edges"), run.getState().artifacts().sprints());
    RoleTask review = finish(propose, "contract v1");
    assertEquals(TaskKind.REVIEW_CONTRACT, review.kind());
    RoleTask propose2 = finish(review, "{\"agreed\": false, \"comments\": \"name the test\"}");
    assertEquals(2, propose2.round());
    assertTrue(propose2.prompt().contains("name the test"));
    RoleTask review2 = finish(propose2, "contract v2");
    RoleTask build = finish(review2, "{\"agreed\": true, \"comments\": \"ok\"}");
    assertEquals(TaskKind.BUILD, build.kind());
    assertTrue(build.prompt().contains("contract v2"));
    RoleTask evaluate = finish(build, "built it");
    assertEquals(TaskKind.EVALUATE, evaluate.kind());

    RoleTask rebuild = finish(evaluate, FAIL);
    assertEquals(TaskKind.BUILD, rebuild.kind());
    assertEquals(2, rebuild.attempt());
    assertTrue(rebuild.prompt().contains("tests/test.sh exits 1"));
    assertTrue(rebuild.prompt().contains("tests 3 < 6"));
    RunState.SprintResult failed = run.getState().results().get(0);
    assertFalse(failed.passed());

    RoleTask evaluate2 = finish(rebuild, "fixed it");
    RoleTask sprint2 = finish(evaluate2, PASS);
    assertEquals(TaskKind.PROPOSE_CONTRACT, sprint2.kind());
    assertEquals(2, sprint2.sprint());
    RoleTask review3 = finish(sprint2, "contract 2");
    RoleTask build2 = finish(review3, "{\"agreed\": true}");
    RoleTask evaluate3 = finish(build2, "built 2");
    assertEquals(null, finish(evaluate3, PASS));

    RunState end = run.getState();
    assertEquals(Phase.COMPLETED, end.progress().phase());
    assertEquals(3, end.results().size());
    List<String> types = sessions.events("session-" + runId).stream()
        .map(e -> e.path("type").asText()).toList();
    assertTrue(types.containsAll(List.of("run.start", "run.phase", "contract.state",
        "evaluation.scores", "run.end")), types.toString());
  }

  @Test
  void aSprintThatFailsEveryAttemptFailsTheRunWithAReport() {
    RoleTask build = finish(start(policy(0, 1, UNLIMITED)), SPEC);
    assertEquals(TaskKind.BUILD, build.kind());
    RoleTask evaluate = finish(build, "built");
    assertEquals(null, finish(evaluate, "not json at all"));
    RunSummary summary = run.<StatusReply<RunSummary>>runCommand(RunCommand.Describe::new)
        .reply().getValue();
    assertEquals(Phase.FAILED, summary.phase());
    assertTrue(summary.outcome().contains("sprint 1 failed after 1 attempts"));
    assertTrue(summary.report().contains("Sprint 1 (Core): FAILED"));
  }

  @Test
  void refusesModelCallsOnceTheTokenBudgetIsSpentAndEndsTheRun() {
    RoleTask plan = start(policy(0, 1, new RunPolicy.Budget(1000, 0, 0)));
    var first = run.<BudgetDecision>runCommand(
        r -> new RunCommand.ReserveBudget("planner-0", Role.PLANNER, "scripted:demo", r));
    assertTrue(first.reply().granted());
    run.<Ack>runCommand(r -> new RunCommand.SettleUsage("planner-0", Role.PLANNER,
        "anthropic:claude-sonnet-4-5", new TokenUsage(900, 200), r));
    // Settling twice (a retried settle) counts once.
    run.<Ack>runCommand(r -> new RunCommand.SettleUsage("planner-0", Role.PLANNER,
        "anthropic:claude-sonnet-4-5", new TokenUsage(900, 200), r));
    assertEquals(1100, run.getState().ledger().inputTokens()
        + run.getState().ledger().outputTokens());
    assertEquals((900 * 3.0 + 200 * 15.0) / 1e6, run.getState().ledger().usd(), 1e-12);

    var second = run.<BudgetDecision>runCommand(
        r -> new RunCommand.ReserveBudget("planner-1", Role.PLANNER, "scripted:demo", r));
    assertFalse(second.reply().granted());
    assertTrue(second.reply().reason().startsWith("token budget spent"));
    assertEquals(Phase.BUDGET_EXHAUSTED, run.getState().progress().phase());
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("budget.used")));
    // The planner's late report of its refused call changes nothing.
    finish(plan, SPEC);
    assertEquals(Phase.BUDGET_EXHAUSTED, run.getState().progress().phase());
  }

  @Test
  void cancelEndsTheRunCancelsTheActiveTaskAndRefusesLaterModelCalls() {
    RoleTask plan = start(policy(0, 1, UNLIMITED));
    var cancelled = run.<StatusReply<RunSummary>>runCommand(
        r -> new RunCommand.Cancel("the user changed their mind", null, r));
    assertEquals(Phase.CANCELLED, cancelled.reply().getValue().phase());
    assertEquals("planner:" + plan.taskId(), roles.cancels.receiveMessage(WAIT));
    var refused = run.<BudgetDecision>runCommand(
        r -> new RunCommand.ReserveBudget("planner-1", Role.PLANNER, "scripted:demo", r));
    assertFalse(refused.reply().granted());
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("run.end")
            && e.path("data").path("status").asText().equals("cancelled")));
  }

  @Test
  void aSteerMessageGoesWithTheNextTaskAndPauseHoldsItUntilResume() {
    RoleTask plan = start(policy(0, 1, UNLIMITED));
    run.<StatusReply<RunSummary>>runCommand(
        r -> RunCommand.SteerRun.direct("Keep it POSIX sh.", r));
    run.<StatusReply<RunSummary>>runCommand(RunCommand.Pause::new);
    assertEquals(null, finish(plan, SPEC));
    roles.tasks.expectNoMessage(Duration.ofMillis(300));
    assertTrue(run.getState().progress().paused());

    var resumed = run.<StatusReply<RunSummary>>runCommand(RunCommand.Resume::new);
    assertFalse(resumed.reply().getValue().paused());
    RoleTask build = roles.tasks.expectMessageClass(RoleTask.class, WAIT);
    assertEquals(List.of("Keep it POSIX sh."), build.steers());
    assertTrue(build.prompt().contains("Keep it POSIX sh."));
    assertTrue(run.getState().pendingSteers().isEmpty());
  }

  @Test
  void everyTaskCarriesTheEgressOfTheRunsPolicy() {
    RoleTask plan = start(policy(0, 1, UNLIMITED).withEgress(true));
    assertTrue(plan.egress());
    RoleTask build = finish(plan, SPEC);
    assertTrue(build.egress());
    assertTrue(finish(build, "built it").egress());
  }

  @Test
  void aPolicyWithoutEgressGivesItToNoTask() {
    RoleTask plan = start(policy(0, 1, UNLIMITED));
    assertFalse(plan.egress());
    assertFalse(finish(plan, SPEC).egress());
  }

  @Test
  void recoveryResendsTheCurrentTask() {
    RoleTask plan = start(policy(0, 1, UNLIMITED));
    RoleTask build = finish(plan, SPEC);
    run.restart();
    RoleTask again = roles.tasks.expectMessageClass(RoleTask.class, WAIT);
    assertEquals(build, again);
  }

  @Test
  void anEvaluatorAtTheEndChecksTheWholeProductOnceAfterTheLastSprint() {
    RunPolicy atEnd = new RunPolicy(true, RunPolicy.EvaluatorMode.AT_END,
        RunPolicy.ContextMode.CONTINUOUS, 0, 2, policy(0, 2, UNLIMITED).rubric(), UNLIMITED);
    RoleTask build1 = finish(start(atEnd), SPEC);
    assertEquals(1, build1.sprint());
    assertFalse(build1.resetContext());
    RoleTask build2 = finish(build1, "sprint 1 built");
    assertEquals(TaskKind.BUILD, build2.kind());
    assertEquals(2, build2.sprint());
    RoleTask evaluate = finish(build2, "sprint 2 built");
    assertEquals(TaskKind.EVALUATE, evaluate.kind());
    assertTrue(evaluate.prompt().contains("Verify the whole product"));
    RoleTask fix = finish(evaluate, FAIL);
    assertEquals(TaskKind.BUILD, fix.kind());
    assertEquals(2, fix.attempt());
    assertEquals(null, finish(finish(fix, "fixed"), PASS));
    assertEquals(Phase.COMPLETED, run.getState().progress().phase());
  }

  @Test
  void theUsdBudgetUsesTheConfiguredPricePerModel() {
    start(policy(0, 1, new RunPolicy.Budget(0, 0.01, 0)));
    run.<Ack>runCommand(r -> new RunCommand.SettleUsage("generator-0", Role.GENERATOR,
        "anthropic:claude-sonnet-4-5", new TokenUsage(1000, 1000), r));
    assertEquals(0.018, run.getState().ledger().usd(), 1e-12);
    var refused = run.<BudgetDecision>runCommand(
        r -> new RunCommand.ReserveBudget("generator-1", Role.GENERATOR, "scripted:demo", r));
    assertFalse(refused.reply().granted());
    assertTrue(refused.reply().reason().startsWith("USD budget spent"), refused.reply().reason());
  }

  @Test
  void scriptedModelsCostNothing() {
    start(policy(0, 1, new RunPolicy.Budget(0, 0.000001, 0)));
    run.<Ack>runCommand(r -> new RunCommand.SettleUsage("planner-0", Role.PLANNER,
        "scripted:demo", new TokenUsage(100000, 100000), r));
    assertEquals(0.0, run.getState().ledger().usd());
    assertTrue(run.<BudgetDecision>runCommand(r -> new RunCommand.ReserveBudget("planner-1",
        Role.PLANNER, "scripted:demo", r)).reply().granted());
  }

  @Test
  void theWallClockBudgetEndsARunThatRanTooLong() {
    start(policy(0, 1, new RunPolicy.Budget(0, 0, 1)));
    kit.createTestProbe().awaitAssert(WAIT, () -> {
      var decision = run.<BudgetDecision>runCommand(
          r -> new RunCommand.ReserveBudget("planner-0", Role.PLANNER, "scripted:demo", r));
      assertFalse(decision.reply().granted());
      return null;
    });
    assertEquals(Phase.BUDGET_EXHAUSTED, run.getState().progress().phase());
    assertTrue(run.getState().outcome().startsWith("wall-clock budget spent"));
  }

  @Test
  void aRoleThatFailsFailsTheRunWithTheReason() {
    RoleTask plan = start(policy(0, 1, UNLIMITED));
    run.<Ack>runCommand(r -> new RunCommand.ReportTask(new TaskOutcome(plan.taskId(),
        Role.PLANNER, false, "model call planner-0 failed 3 times: Overloaded"), r));
    assertEquals(Phase.FAILED, run.getState().progress().phase());
    assertTrue(run.getState().outcome().contains("Overloaded"));
  }
}
