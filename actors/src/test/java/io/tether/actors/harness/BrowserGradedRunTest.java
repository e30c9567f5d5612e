package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.run.Phase;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunState;
import io.tether.actors.harness.run.RunSummary;
import io.tether.actors.harness.task.ToolGrant;
import io.tether.actors.harness.workspace.ShardedWorkspaceStore;
import io.tether.actors.harness.workspace.Workspace;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A browser-graded run through every harness entity (sharding, the in-memory journal) with the
 * real sandbox and the real browser: Playwright MCP (installed by install-browser.sh) driving
 * Debian's headless Chromium inside the run's sandbox and network namespace. The scripted
 * generator builds a counter page whose button is broken; the scripted evaluator starts the app
 * with {@code start_process}, opens it in Chromium, clicks the button (the element reference it
 * clicks is read from the real page snapshot) and reads the page again: the real page still
 * says "Clicked 0 times", so the sprint fails with a screenshot; after the generator's fix the
 * same clicks make it say "Clicked 1 time" and the sprint passes. The scripted provider drives
 * every role and every event says so.
 */
class BrowserGradedRunTest {

  private static ActorTestKit kit;

  @BeforeAll
  static void start() throws Exception {
    Path workspaces = Files.createTempDirectory("tether-browser-workspaces");
    kit = HarnessTestSupport.harnessNode("BrowserGradedRunTest", workspaces, ConfigFactory.empty());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void theEvaluatorClicksTheBrokenButtonInChromiumFailsTheSprintWithAScreenshotThenPassesTheFix()
      throws Exception {
    InMemorySessionWriter sessions = (InMemorySessionWriter) Harness.get(kit.system()).sessions();
    TestProbe<ObjectNode> watcher = kit.createTestProbe();
    sessions.watch(e -> watcher.getRef().tell(e));
    RunPolicy defaults = Harness.get(kit.system()).settings().defaultPolicy();
    RunPolicy policy = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.RESET, 0, 2, defaults.rubric(), defaults.budget())
        .withToolServers(List.of(new RunPolicy.ToolServer("browser",
            Map.of("evaluator", List.of("*")))));
    Map<String, String> models = Map.of("planner", "scripted:browser-demo", "generator",
        "scripted:browser-demo", "evaluator", "scripted:browser-demo");
    var run = ClusterSharding.get(kit.system()).entityRefFor(Run.ENTITY_TYPE_KEY, "browser-1");
    run.<RunSummary>askWithStatus(r -> new RunCommand.Start("A web page with a counter button.",
            models, policy, "browser-1-session", r), Duration.ofSeconds(30))
        .toCompletableFuture().get();

    watcher.fishForMessage(Duration.ofSeconds(150), e ->
        e.path("type").asText().equals("run.end") ? FishingOutcomes.complete()
            : FishingOutcomes.continueAndIgnore());
    RunSummary end = run.<RunSummary>askWithStatus(RunCommand.Describe::new,
        Duration.ofSeconds(10)).toCompletableFuture().get();
    assertEquals(Phase.COMPLETED, end.phase(), end.outcome());
    assertEquals(List.of(false, true),
        end.results().stream().map(RunState.SprintResult::passed).toList());

    List<ObjectNode> events = sessions.events("browser-1-session");
    List<String> evaluatorTools = events.stream()
        .filter(e -> e.path("type").asText().equals("tool.call")
            && e.path("producer").asText().equals("evaluator"))
        .map(e -> e.path("data").path("name").asText()).toList();
    assertEquals(List.of("start_process", "browser_navigate", "browser_snapshot",
        "browser_click", "browser_take_screenshot", "browser_snapshot"),
        evaluatorTools.subList(0, 6));
    // The click hit the element the real snapshot named, and the page read after it is real.
    List<String> snapshots = events.stream()
        .filter(e -> e.path("type").asText().equals("tool.result")
            && e.path("producer").asText().equals("evaluator")
            && e.path("data").path("output").asText().contains("### Snapshot"))
        .map(e -> e.path("data").path("output").asText()).toList();
    assertTrue(snapshots.size() >= 4, snapshots.toString());
    assertTrue(snapshots.get(1).contains("Clicked 0 times"), snapshots.get(1));
    assertTrue(snapshots.get(snapshots.size() - 1).contains("Clicked 1 time"),
        snapshots.get(snapshots.size() - 1));
    assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("tool.call")
        && e.path("data").path("name").asText().equals("browser_click")
        && e.path("data").path("arguments").asText().matches(".*\"target\":\"e\\d+\".*")));

    // One screenshot per evaluated attempt, linked from the session and kept in the workspace.
    List<ObjectNode> shots = events.stream()
        .filter(e -> e.path("type").asText().equals("tool.screenshot")).toList();
    assertEquals(List.of(1, 2), shots.stream().map(e -> e.path("data").path("attempt").asInt())
        .toList());
    Workspace.Files files = new ShardedWorkspaceStore(kit.system()).files("browser-1")
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (ObjectNode shot : shots) {
      String path = shot.path("data").path("path").asText();
      assertTrue(shot.path("data").path("url").asText().equals("/runs/browser-1/files/" + path));
      byte[] png = Base64.getDecoder().decode(files.files().get(path + ".base64"));
      assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4), path);
      assertTrue(png.length > 1000, path + " is " + png.length + " bytes");
    }
    ObjectNode failed = events.stream()
        .filter(e -> e.path("type").asText().equals("evaluation.scores")
            && !e.path("data").path("passed").asBoolean()).findFirst().orElseThrow();
    assertTrue(failed.path("data").path("feedback").asText().contains("does nothing"));
    assertFalse(events.stream().anyMatch(e -> e.path("type").asText().equals("message.start")
        && !e.path("data").path("scripted").asBoolean()));
    Files.writeString(Path.of("target", "browser-graded-run-events.jsonl"),
        String.join("\n", events.stream().map(ObjectNode::toString).toList()) + "\n",
        StandardCharsets.UTF_8);
  }

  @Test
  void theBrowserReachesTheRunsAppButNotTheNodesLoopback() throws Exception {
    HttpServer node = io.tether.actors.harness.workspace.Sandboxes.textServer(
        InetAddress.getLoopbackAddress(), "/", "node-secret-page");
    try {
      var mcp = Harness.get(kit.system()).mcp();
      List<ToolGrant> grants = List.of(new ToolGrant("browser", List.of("browser_navigate")));
      WorkspaceTools.Outcome outcome = mcp.call("browser-reach", "evaluator", "probe", grants,
              new ToolCall("c1", "browser_navigate",
                  "{\"url\":\"http://127.0.0.1:" + node.getAddress().getPort() + "/\"}"))
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertTrue(outcome.error(), outcome.output());
      assertFalse(outcome.output().contains("node-secret-page"), outcome.output());
      assertTrue(outcome.output().contains("ERR_CONNECTION_REFUSED"), outcome.output());
      WorkspaceTools.Outcome refused = mcp.call("browser-reach", "evaluator", "probe", grants,
              new ToolCall("c2", "browser_evaluate", "{\"function\":\"() => 1\"}"))
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertTrue(refused.error() && refused.output().contains("may not use"),
          refused.output());
      mcp.release("browser-reach", "evaluator");
    } finally {
      node.stop(0);
    }
  }
}
