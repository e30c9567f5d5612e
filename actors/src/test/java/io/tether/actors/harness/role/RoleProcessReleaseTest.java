package io.tether.actors.harness.role;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.HarnessTestSupport;
import io.tether.actors.harness.HarnessTestSupport.RecordingRunLink;
import io.tether.actors.harness.HarnessTestSupport.SpawnedWorkspaces;
import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.role.RoleEntityTest.GatedProvider;
import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.harness.task.TaskOutcome;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A role's long-lived processes end with its task: a scripted Evaluator starts a real HTTP
 * server with {@code start_process} and probes it in a later tool call; when the task completes,
 * and when the run cancels it, the server's port refuses and its process is gone.
 */
class RoleProcessReleaseTest {

  private static final ActorTestKit kit = ActorTestKit.create("RoleProcessReleaseTest",
      HarnessTestSupport.testKitConfig());
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static int runs;

  @TempDir Path scripts;
  @TempDir Path workspaces;

  private RecordingRunLink run;
  private String runId;
  private WorkspaceTools tools;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    run = new RecordingRunLink(kit);
    runId = "process-run-" + (++runs);
    tools = HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces);
  }

  @AfterEach
  void stopLeftovers() {
    tools.processes().stopRun(runId);
  }

  private EventSourcedBehaviorTestKit<RoleCommand, RoleEvent, RoleState>
      evaluator(String script, GatedProvider gated) {
    HarnessTestSupport.writeScript(scripts, "test", script);
    RoleServices services = new RoleServices(
        gated == null ? HarnessTestSupport.providers(scripts)
            : HarnessTestSupport.providers(scripts, gated),
        tools, new InMemorySessionWriter(), run,
        HarnessTestSupport.roleSettings(kit.system().settings().config()));
    return EventSourcedBehaviorTestKit.create(kit.system(), Evaluator.create(runId, services));
  }

  private RoleTask task(String model) {
    return new RoleTask("t1", runId, "session-" + runId, Role.EVALUATOR, TaskKind.EVALUATE, 1, 1,
        1, model, "Evaluate.", true, List.of());
  }

  private static String startServer(int port) {
    return "{\"name\": \"start_process\", \"arguments\": {\"command\": \"python3 -m http.server "
        + port + " --bind 127.0.0.1\", \"port\": " + port + "}}";
  }

  @Test
  void theServerARoleStartedIsStoppedWhenItsTaskCompletes() throws Exception {
    int port = freePort();
    var testKit = evaluator("""
        {"name": "test", "roles": {"evaluator": [
          {"text": "", "toolCalls": [%s]},
          {"text": "", "toolCalls": [{"name": "http_probe",
            "arguments": {"url": "http://127.0.0.1:%d/"}}]},
          {"text": "PASS"}]}}
        """.formatted(startServer(port), port), null);
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("scripted:test"), r));

    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertTrue(outcome.succeeded(), outcome.output());
    List<String> results = testKit.getState().messages().stream()
        .filter(m -> m.kind() == ChatTurn.Kind.TOOL_RESULT).map(ChatTurn::text).toList();
    assertTrue(results.get(0).startsWith("started p"), results.get(0));
    assertTrue(results.get(1).startsWith("status=200"), "probed in a later call: "
        + results.get(1));

    awaitGone(port);
    assertEquals(List.of(), tools.processes().running(runId));
  }

  @Test
  void theServerARoleStartedIsStoppedWhenTheRunCancelsItsTask() throws Exception {
    int port = freePort();
    GatedProvider gated = new GatedProvider(
        new ScriptedProvider(scripts, HarnessTestSupport.BLOCKING), 1);
    var testKit = evaluator("""
        {"name": "test", "roles": {"evaluator": [
          {"text": "", "toolCalls": [%s]},
          {"text": "never reached"}]}}
        """.formatted(startServer(port)), gated);
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("gated:test"), r));
    run.reports.awaitAssert(WAIT, () -> {
      assertTrue(tools.accepts(runId, port), "the server is up in the run's network");
      assertEquals(1, testKit.getState().toolCallsCompleted());
      return null;
    });

    var cancelled = testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.CancelTask("t1", r));
    assertTrue(cancelled.reply().isSuccess());
    awaitGone(port);
    assertEquals(List.of(), tools.processes().running(runId));
    gated.gate.complete(null);
  }

  private void awaitGone(int port) {
    String server = "-m http.server " + port + " --bind 127.0.0.1";
    run.reports.awaitAssert(WAIT, () -> {
      assertTrue(!tools.accepts(runId, port), "the port still accepts");
      assertEquals(List.of(), ProcessHandle.allProcesses()
          .filter(p -> p.info().commandLine().orElse("").matches("\\S*python3\\S* " + server))
          .filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList());
      return null;
    });
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
