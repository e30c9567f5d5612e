package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.run.Phase;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunState;
import io.tether.actors.harness.run.RunSummary;
import io.tether.actors.harness.workspace.CommandRunner;
import io.tether.actors.harness.workspace.ShardedWorkspaceStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scripted demo through every harness entity in one clustered ActorSystem (sharding, the
 * in-memory journal): the planner plans two sprints, contract negotiation takes two rounds, the
 * generator's first build has a real bug, the evaluator really runs the tests, which really
 * fail, so sprint 1 fails; the generator fixes it, the tests pass, sprint 2 passes, and a
 * watcher of the session sees every role's output. The transcript is written to
 * {@code target/harness-demo-transcript.txt}.
 */
class ScriptedRunEndToEndTest {

  private static ActorTestKit kit;
  private static Path workspaces;

  @BeforeAll
  static void start() throws Exception {
    workspaces = Files.createTempDirectory("tether-e2e-workspaces");
    kit = HarnessTestSupport.harnessNode("ScriptedRunEndToEndTest", workspaces, ConfigFactory.empty());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void theScriptedDemoFailsSprintOneForRealThenFixesItAndCompletes() throws Exception {
    InMemorySessionWriter sessions = (InMemorySessionWriter) Harness.get(kit.system()).sessions();
    TestProbe<ObjectNode> watcher = kit.createTestProbe();
    sessions.watch(e -> watcher.getRef().tell(e));

    RunPolicy defaults = Harness.get(kit.system()).settings().defaultPolicy();
    RunPolicy policy = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.RESET, 2, 3, defaults.rubric(), defaults.budget());
    Map<String, String> models = Map.of("planner", "scripted:demo", "generator",
        "scripted:demo", "evaluator", "scripted:demo");
    var run = ClusterSharding.get(kit.system()).entityRefFor(Run.ENTITY_TYPE_KEY, "demo-1");
    RunSummary started = run.<RunSummary>askWithStatus(r -> new RunCommand.Start(
            "A command-line tool that turns titles into URL slugs.", models, policy,
            "demo-1-session", r), Duration.ofSeconds(30))
        .toCompletableFuture().get();
    assertTrue(started.scripted());

    watcher.fishForMessage(Duration.ofSeconds(90), e ->
        e.path("type").asText().equals("run.end") ? FishingOutcomes.complete()
            : FishingOutcomes.continueAndIgnore());
    RunSummary end = run.<RunSummary>askWithStatus(RunCommand.Describe::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();
    assertEquals(Phase.COMPLETED, end.phase(), end.outcome());
    // The operator's meters moved with the run (TetherMetrics, scraped at GET /metrics).
    String scrape = io.tether.actors.metrics.TetherMetrics.get(kit.system()).scrape();
    assertTrue(scrape.contains("tether_harness_runs_started_total 1.0"), scrape);
    assertTrue(scrape.contains("tether_harness_runs_ended_total{outcome=\"completed\"} 1.0"),
        scrape);
    assertTrue(scrape.contains("tether_harness_tokens_total{direction=\"output\"}"), scrape);
    assertEquals(List.of(1, 1, 2),
        end.results().stream().map(RunState.SprintResult::sprint).toList());
    assertEquals(List.of(false, true, true),
        end.results().stream().map(RunState.SprintResult::passed).toList());

    // Every scripted answer was one model call: planner 2, generator 13, evaluator 9.
    watcher.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(24, sessions.events("demo-1-session").stream().filter(e ->
          e.path("type").asText().equals("message.end")).count());
      return null;
    });
    List<ObjectNode> events = sessions.events("demo-1-session");

    // The evaluator's first verdict rests on a real failing test run.
    assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("tool.result")
        && e.path("producer").asText().equals("evaluator")
        && e.path("data").path("output").asText().startsWith("exit_code=1")
        && e.path("data").path("output").asText()
            .contains("FAIL: 'Hello World' -> 'Hello-World' (expected 'hello-world')")));
    List<String> contractStates = events.stream()
        .filter(e -> e.path("type").asText().equals("contract.state"))
        .map(e -> e.path("data").path("state").asText()).toList();
    assertEquals(List.of("proposed", "rejected", "proposed", "agreed", "proposed", "agreed"),
        contractStates);
    for (String role : List.of("planner", "generator", "evaluator")) {
      assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("message.delta")
          && e.path("producer").asText().equals(role)
          && e.path("data").path("scripted").asBoolean()), role);
    }
    assertFalse(events.stream().anyMatch(e -> e.path("type").asText().equals("message.start")
        && !e.path("data").path("scripted").asBoolean()));

    // What the generator left really works.
    Path dir = workspaces.resolve("demo-1");
    CommandRunner.Result tests = new CommandRunner(Duration.ofSeconds(20), 8192,
        "/usr/local/bin:/usr/bin:/bin").run(dir, "sh tests/test_slug.sh");
    assertEquals(0, tests.exitCode(), tests.output());
    Map<String, String> durable = new ShardedWorkspaceStore(kit.system()).files("demo-1")
        .toCompletableFuture().get().files();
    assertTrue(durable.get("report.md").contains("Sprint 2 (Punctuation and spacing): PASSED"),
        durable.get("report.md"));
    assertTrue(durable.get("evaluations/sprint-1-attempt-1.md").contains("FAILED"));
    assertEquals(Files.readString(dir.resolve("slug.sh")), durable.get("slug.sh"));

    Files.writeString(Path.of("target", "harness-demo-transcript.txt"), transcript(events)
        + "\n" + end.report());
  }

  /** The session as a watching client sees it, deltas rolled up into one line per message. */
  static String transcript(List<ObjectNode> events) {
    StringBuilder out = new StringBuilder();
    StringBuilder text = new StringBuilder();
    for (ObjectNode e : events) {
      String type = e.path("type").asText();
      var data = e.path("data");
      if (type.equals("message.delta")) {
        text.append(data.path("text").asText());
        continue;
      }
      String line = e.path("offset").asText() + " " + e.path("producer").asText() + " "
          + type + " [" + e.path("step").asText() + "] ";
      line += switch (type) {
        case "message.start" -> data.path("model").asText()
            + (data.path("scripted").asBoolean() ? " (scripted)" : "")
            + (data.path("retry").asBoolean() ? " retry" : "");
        case "message.end" -> {
          String said = text.toString().replace('\n', ' ');
          text.setLength(0);
          yield data.path("status").asText() + ": \""
              + (said.length() > 90 ? said.substring(0, 90) + "..." : said) + "\"";
        }
        case "tool.call" -> data.path("name").asText() + " " + abbreviate(
            data.path("arguments").asText(), 70);
        case "tool.result" -> data.path("status").asText() + " " + abbreviate(
            data.path("output").asText().replace('\n', ' '), 90);
        case "run.phase" -> data.path("role").asText() + " " + data.path("task").asText()
            + " sprint " + data.path("sprint").asText() + " attempt "
            + data.path("attempt").asText() + " round " + data.path("round").asText();
        case "contract.state" -> "sprint " + data.path("sprint").asText() + " round "
            + data.path("round").asText() + ": " + data.path("state").asText();
        case "evaluation.scores" -> "sprint " + data.path("sprint").asText() + " attempt "
            + data.path("attempt").asText() + " " + data.path("scores") + " passed="
            + data.path("passed").asText() + " misses=" + data.path("misses");
        case "budget.used" -> data.path("inputTokens").asText() + " in + "
            + data.path("outputTokens").asText() + " out tokens, USD " + data.path("usd");
        case "run.end" -> data.path("status").asText() + ": " + data.path("reason").asText();
        case "run.spec" -> "sprints " + data.path("sprints");
        default -> abbreviate(data.toString(), 90);
      };
      out.append(line).append('\n');
    }
    return out.toString();
  }

  private static String abbreviate(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "..." : s;
  }

}
