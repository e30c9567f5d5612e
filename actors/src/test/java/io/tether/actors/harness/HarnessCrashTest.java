package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import io.tether.persistence.testkit.TestCassandra;
import io.tether.persistence.testkit.TestJvmOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A process-level crash: a node runs a scripted run on the Cassandra journal and is killed with
 * SIGKILL while the generator's second tool call is running; a new node recovers the run when a
 * client asks for it. The run finishes from its last persisted step: the completed first tool
 * call is not repeated, the interrupted one is reported in doubt (to the model and in the
 * session), and the session shows the interruption.
 */
class HarnessCrashTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String SCRIPT = """
      {"name": "crash", "roles": {
        "planner": [{"text": "# Crash spec\\nWrite two steps."}],
        "generator": [
          {"text": "Step one.", "toolCalls": [{"name": "run_command",
            "arguments": {"command": "echo once >> steps.log"}}]},
          {"text": "Step two (slow).", "toolCalls": [{"name": "run_command", "arguments":
            {"command": "touch started; while [ ! -f release ]; do sleep 0.1; done; echo two >> steps.log"}}]},
          {"choose": [
            {"whenLastToolResult": "IN DOUBT", "text": "Step two was interrupted; checking.",
             "toolCalls": [{"name": "run_command",
               "arguments": {"command": "cat steps.log > finished.txt"}}]},
            {"text": "Step two finished normally."}]},
          {"text": "Both steps done."}],
        "evaluator": [{"text": "{\\"scores\\": {\\"functionality\\": 9, \\"code-quality\\": 9, \\"tests\\": 9}, \\"feedback\\": \\"ok\\"}"}]
      }}
      """;

  private Process launch(Path config, String mode, String runId, Path out, String... extra)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> argv = new ArrayList<>(List.of(java, "-Xmx512m", "-cp",
        System.getProperty("java.class.path"), HarnessCrashNode.class.getName(),
        config.toString(), mode, runId, out.toString()));
    argv.addAll(1, TestJvmOptions.childJvm());
    argv.addAll(List.of(extra));
    return new ProcessBuilder(argv)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve(mode + ".log").toFile()))
        .start();
  }

  @Test
  void aRunKilledMidBuildContinuesFromItsLastPersistedStepWithoutRepeatingATool()
      throws Exception {
    Path work = io.tether.actors.harness.workspace.Sandboxes.reachable(Files.createTempDirectory("tether-harness-crash"));
    Path scripts = Files.createDirectories(work.resolve("scripts"));
    Files.writeString(scripts.resolve("crash.json"), SCRIPT);
    Path workspaces = Files.createDirectories(work.resolve("workspaces"));
    Config node = ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = "127.0.0.1"
            pekko.remote.artery.canonical.port = 0
            pekko.loglevel = INFO
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
            pekko.cluster.sharding.remember-entities-store = eventsourced
            tether.harness.session-writer = "session-entity"
            """)
        .withFallback(ConfigFactory.parseMap(Map.of(
            "tether.harness.workspace.root", workspaces.toString(),
            "tether.harness.providers.scripted.directory", scripts.toString())))
        .withFallback(TestCassandra.get().configFor("HarnessCrashTest"))
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .resolve();
    Path config = work.resolve("node.conf");
    Files.writeString(config, node.root().render(ConfigRenderOptions.concise()));
    String runId = "crash-1";
    Path dir = workspaces.resolve(runId);

    Process first = launch(config, "start", runId, work);
    try {
      await(() -> Files.exists(dir.resolve("started")), Duration.ofMinutes(3), first, work);
    } finally {
      first.destroyForcibly();
      first.waitFor(30, TimeUnit.SECONDS);
    }

    Process second = launch(config, "resume", runId, work);
    try {
      assertTrue(second.waitFor(4, TimeUnit.MINUTES), "the resumed node did not finish");
      assertEquals(0, second.exitValue(), Files.readString(work.resolve("resume.log")));

      JsonNode summary = JSON.readTree(work.resolve("summary.json").toFile());
      assertEquals("COMPLETED", summary.path("phase").asText(), summary.toString());
      // The completed first step ran once; the in-doubt second step's orphan is still waiting.
      assertEquals(List.of("once"), Files.readAllLines(dir.resolve("steps.log")));
      assertEquals(List.of("once"), Files.readAllLines(dir.resolve("finished.txt")));

      List<JsonNode> events = new ArrayList<>();
      for (String line : Files.readAllLines(work.resolve("session.jsonl"))) {
        events.add(JSON.readTree(line));
      }
      assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("run.interrupted")
          && e.path("data").path("toolCall").asText().equals("in_doubt")), events.toString());
      assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("tool.result")
          && e.path("data").path("status").asText().equals("in_doubt")));
      assertEquals(1, events.stream().filter(e -> e.path("type").asText().equals("tool.call")
          && e.path("data").path("arguments").asText().contains("echo once")).count());
      assertEquals("complete", events.stream()
          .filter(e -> e.path("type").asText().equals("run.end")).findFirst().orElseThrow()
          .path("data").path("status").asText());
    } finally {
      second.destroyForcibly();
      Files.writeString(dir.resolve("release"), "");
    }
  }

  /**
   * A node killed with SIGKILL while a real provider (Anthropic's wire format, from a stub
   * playing a browser-graded run) is streaming the Evaluator's verdict: a new node recovers the
   * run, re-issues the call once, records it as a retry, and charges both attempts (the cut-off
   * one at its estimated input).
   */
  @Test
  void aNodeKilledDuringAModelStreamReissuesTheCallOnceAndChargesBothAttempts()
      throws Exception {
    Path work = io.tether.actors.harness.workspace.Sandboxes.reachable(
        Files.createTempDirectory("tether-harness-stream-crash"));
    Path workspaces = Files.createDirectories(work.resolve("workspaces"));
    try (WireScriptStub stub = new WireScriptStub(new String(getClass().getResourceAsStream(
        "/harness/wire-run.json").readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))) {
      stub.holdOnce((role, index) -> role.equals("evaluator") && index == 5);
      Config node = ConfigFactory.parseString("""
              pekko.actor.provider = cluster
              pekko.remote.artery.canonical.hostname = "127.0.0.1"
              pekko.remote.artery.canonical.port = 0
              pekko.loglevel = INFO
              pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
              pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
              pekko.cluster.sharding.remember-entities-store = eventsourced
              tether.harness.session-writer = "session-entity"
              tether.harness.providers.anthropic.api-key-env = "TETHER_TEST_PARENT_SECRET"
              tether.harness.prices { "anthropic:claude-stub" { input = 3.0, output = 15.0 } }
              """)
          .withFallback(ConfigFactory.parseMap(Map.of(
              "tether.harness.workspace.root", workspaces.toString(),
              "tether.harness.providers.anthropic.base-url", stub.baseUrl() + "/v1",
              "tether.harness.mcp.browser.dir",
              System.getProperty("tether.harness.mcp.browser.dir", ""))))
          .withFallback(TestCassandra.get().configFor("HarnessStreamCrashTest"))
          .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
          .resolve();
      Path config = work.resolve("node.conf");
      Files.writeString(config, node.root().render(ConfigRenderOptions.concise()));
      String runId = "stream-crash-1";

      Process first = launch(config, "start", runId, work, "anthropic:claude-stub", "browser");
      try {
        stub.held().get(4, TimeUnit.MINUTES);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("the evaluator's verdict never streamed; log:\n"
            + Files.readString(work.resolve("start.log")));
      } finally {
        first.destroyForcibly();
        first.waitFor(30, TimeUnit.SECONDS);
      }

      Process second = launch(config, "resume", runId, work);
      try {
        assertTrue(second.waitFor(4, TimeUnit.MINUTES), "the resumed node did not finish");
        assertEquals(0, second.exitValue(), Files.readString(work.resolve("resume.log")));
        JsonNode summary = JSON.readTree(work.resolve("summary.json").toFile());
        assertEquals("COMPLETED", summary.path("phase").asText(), summary.toString());
        // The verdict call went out twice (cut off, then re-issued), nothing else repeated.
        assertEquals(2, stub.received().stream()
            .filter(r -> r.equals("anthropic evaluator 5")).count(), stub.received().toString());
        assertEquals(1, stub.received().stream()
            .filter(r -> r.equals("anthropic evaluator 3")).count(), stub.received().toString());
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(work.resolve("session.jsonl"))) {
          events.add(JSON.readTree(line));
        }
        assertTrue(events.stream().anyMatch(e -> e.path("type").asText()
            .equals("run.interrupted") && e.path("data").path("callId").asText()
            .equals("evaluator-5") && e.path("data").path("modelCall").asText()
            .equals("re-issued")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("message.start")
            && e.path("data").path("callId").asText().equals("evaluator-5")
            && e.path("data").path("attempt").asInt() == 2
            && e.path("data").path("retry").asBoolean()));
        // Both attempts are charged: six answered calls and the cut-off one, estimated.
        JsonNode evaluator = summary.path("spendByRole").path("evaluator");
        assertEquals(7, evaluator.path("calls").asInt(), summary.toString());
        assertEquals(1, evaluator.path("estimated").asInt(), summary.toString());
        assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("budget.used")
            && e.path("data").path("callId").asText().equals("evaluator-5#1")
            && e.path("data").path("estimated").asBoolean()
            && e.path("data").path("call").path("inputTokens").asLong() > 0));
        Files.copy(work.resolve("session.jsonl"), Path.of("target",
            "stream-crash-session.jsonl"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } finally {
        second.destroyForcibly();
      }
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  /** Waits for a condition the child process makes true, failing early if it dies. */
  private static void await(Check check, Duration timeout, Process process, Path work)
      throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (!check.ok()) {
      if (!process.isAlive() || Instant.now().isAfter(deadline)) {
        throw new AssertionError("the node did not reach the crash point; log:\n"
            + Files.readString(work.resolve("start.log")));
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }
}
