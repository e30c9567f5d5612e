package io.tether.actors.harness.role;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.HarnessTestSupport;
import io.tether.actors.harness.HarnessTestSupport.RecordingRunLink;
import io.tether.actors.harness.HarnessTestSupport.SpawnedWorkspaces;
import io.tether.actors.harness.model.ModelProvider;
import io.tether.actors.harness.model.ModelProvider.ModelProviderException;
import io.tether.actors.harness.model.ModelRequest;
import io.tether.actors.harness.model.ModelResponse;
import io.tether.actors.harness.model.ModelStreamListener;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.harness.task.TaskOutcome;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The role engine with the persistence test kit: a task's model and tool loop, write-ahead
 * events, budget refusal, cancel, and recovery in the middle of a task (a completed tool call is
 * not repeated, an in-flight model call is re-issued as a retry, an in-flight tool call is
 * reported in doubt).
 */
class RoleEntityTest {

  private static final ActorTestKit kit = ActorTestKit.create("RoleEntityTest",
      HarnessTestSupport.testKitConfig());
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path scripts;
  @TempDir Path workspaces;

  private RecordingRunLink run;
  private InMemorySessionWriter sessions;
  private GatedProvider gated;
  private String runId;
  private static int runs;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    run = new RecordingRunLink(kit);
    sessions = new InMemorySessionWriter();
    runId = "role-run-" + (++runs);
  }

  /** Delegates to the scripted provider, holding the call with a given index until released. */
  static final class GatedProvider implements ModelProvider {
    final ScriptedProvider script;
    final long gatedIndex;
    final CompletableFuture<Void> gate = new CompletableFuture<>();
    final List<ModelRequest> requests = new CopyOnWriteArrayList<>();

    GatedProvider(ScriptedProvider script, long gatedIndex) {
      this.script = script;
      this.gatedIndex = gatedIndex;
    }

    @Override
    public String name() {
      return "gated";
    }

    @Override
    public boolean scripted() {
      return true;
    }

    @Override
    public CompletionStage<ModelResponse> stream(ModelRequest request,
        ModelStreamListener listener) {
      requests.add(request);
      if (request.callIndex() == gatedIndex) {
        return gate.thenCompose(v -> script.stream(request, listener));
      }
      return script.stream(request, listener);
    }
  }

  private EventSourcedBehaviorTestKit<RoleCommand, RoleEvent, RoleState>
      generator(String script, long gatedIndex) {
    HarnessTestSupport.writeScript(scripts, "test", script);
    gated = new GatedProvider(new ScriptedProvider(scripts, HarnessTestSupport.BLOCKING),
        gatedIndex);
    RoleServices services = new RoleServices(
        HarnessTestSupport.providers(scripts, gated),
        HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces),
        sessions, run, HarnessTestSupport.roleSettings(kit.system().settings().config()));
    return EventSourcedBehaviorTestKit.create(kit.system(),
        Generator.create(runId, services));
  }

  private RoleTask task(String taskId, String model) {
    return new RoleTask(taskId, runId, "session-" + runId, Role.GENERATOR, TaskKind.BUILD, 1, 1,
        1, model, "Build it.", true, List.of());
  }

  private EventSourcedBehaviorTestKit<?, ?, ?> current;

  private List<Object> persisted() {
    return current.persistenceTestKit().persistedInStorage("Generator|" + runId);
  }

  private static long count(List<Object> events, Class<?> type) {
    return events.stream().filter(type::isInstance).count();
  }

  private Path local(String file) {
    return workspaces.resolve(runId).resolve(file);
  }

  @Test
  void performsATaskAsWrittenAheadModelAndToolCallsAndReportsOnce() throws Exception {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [
          {"text": "Writing.", "toolCalls": [
            {"name": "write_file", "arguments": {"path": "notes.txt", "content": "hello"}}]},
          {"text": "", "toolCalls": [
            {"name": "run_command", "arguments": {"command": "cat notes.txt >> ran.txt"}}]},
          {"text": "Built notes.txt."}]}}
        """, -1);
    current = testKit;
    RoleTask task = task("t1", "scripted:test");
    var accepted = testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task, r));
    assertTrue(accepted.reply().isSuccess());

    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertTrue(outcome.succeeded());
    assertEquals("Built notes.txt.", outcome.output());
    run.reports.awaitAssert(WAIT, () -> {
      assertEquals(1, count(persisted(), RoleEvent.TaskReported.class));
      return null;
    });

    List<Object> events = persisted();
    assertEquals(3, count(events, RoleEvent.ModelCallRequested.class));
    assertEquals(3, count(events, RoleEvent.ModelCallCompleted.class));
    assertEquals(2, count(events, RoleEvent.ToolCallRequested.class));
    assertEquals(2, count(events, RoleEvent.ToolCallCompleted.class));
    assertEquals("hello", Files.readString(local("ran.txt")));
    assertEquals(3, run.settled.size());

    // A re-sent task (a lost acknowledgement) is acknowledged but not performed again.
    var again = testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task, r));
    assertTrue(again.reply().isSuccess());
    assertTrue(again.events().isEmpty());

    List<String> types = sessions.events("session-" + runId).stream()
        .map(e -> e.path("type").asText()).toList();
    assertTrue(types.containsAll(List.of("message.start", "message.delta", "message.end",
        "tool.call", "tool.result")), types.toString());
    ObjectNode start = sessions.events("session-" + runId).stream()
        .filter(e -> e.path("type").asText().equals("message.start")).findFirst().orElseThrow();
    assertTrue(start.path("data").path("scripted").asBoolean());
    assertEquals("generator", start.path("producer").asText());
  }

  @Test
  void recoveryReissuesTheInFlightModelCallAndNeverRepeatsACompletedTool() throws Exception {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [
          {"text": "", "toolCalls": [
            {"name": "run_command", "arguments": {"command": "echo ran >> ran.txt"}}]},
          {"text": "Done after the tool."}]}}
        """, 1);
    current = testKit;
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t1", "gated:test"), r));
    run.reports.awaitAssert(WAIT, () -> {
      RoleState s = testKit.getState();
      assertNotNull(s.pendingCall());
      assertEquals(1, s.pendingCall().callIndex());
      return null;
    });
    assertEquals(1, count(persisted(), RoleEvent.ToolCallCompleted.class));

    testKit.restart();
    run.reports.awaitAssert(WAIT, () -> {
      assertEquals(1, count(persisted(), RoleEvent.ModelCallRetried.class));
      return null;
    });
    gated.gate.complete(null);

    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals("Done after the tool.", outcome.output());
    List<Object> events = persisted();
    RoleEvent.ModelCallRetried retried = events.stream()
        .filter(RoleEvent.ModelCallRetried.class::isInstance)
        .map(RoleEvent.ModelCallRetried.class::cast).findFirst().orElseThrow();
    assertEquals("generator-1", retried.callId());
    assertEquals(2, retried.attempt());
    assertEquals("re-issued after recovery", retried.reason());
    assertEquals(1, count(events, RoleEvent.ToolCallRequested.class));
    assertEquals(1, count(events, RoleEvent.ToolCallCompleted.class));
    assertEquals(List.of("ran"), Files.readAllLines(local("ran.txt")));
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("run.interrupted")
            && e.path("data").path("modelCall").asText().equals("re-issued")));
  }

  @Test
  void compactsPastTheThresholdAndAfterACrashResumesFromTheRecordedSummary() throws Exception {
    HarnessTestSupport.writeScript(scripts, "test", """
        {"name": "test", "roles": {"generator": [
          {"text": "Writing the notes.", "toolCalls": [{"name": "write_file", "arguments":
            {"path": "notes.txt", "content": "%s"}}]},
          {"text": "", "toolCalls": [{"name": "run_command", "arguments":
            {"command": "wc -c < notes.txt"}}]},
          {"text": "SUMMARY: wrote notes.txt (600 characters of x) and measured it."},
          {"text": "Done from the summary."}]}}
        """.formatted("x".repeat(600)));
    gated = new GatedProvider(new ScriptedProvider(scripts, HarnessTestSupport.BLOCKING), 3);
    RoleSettings defaults = HarnessTestSupport.roleSettings(kit.system().settings().config());
    RoleServices services = new RoleServices(HarnessTestSupport.providers(scripts, gated),
        HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces), sessions, run,
        new RoleSettings(defaults.redeliverAfter(), defaults.modelCallRetries(),
            defaults.maxOutputTokens(), defaults.maxCallsPerTask(), defaults.snapshotEvery(), 2));
    var testKit = EventSourcedBehaviorTestKit.<RoleCommand, RoleEvent, RoleState>create(
        kit.system(), Generator.create(runId, services));
    current = testKit;
    RoleTask task = new RoleTask("t1", runId, "session-" + runId, Role.GENERATOR,
        TaskKind.BUILD, 1, 1, 1, "gated:test", "Build it.", false, List.of(), List.of(),
        List.of(), 100);
    testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(task, r));
    // The summary is recorded, and the next call (with the compacted conversation) is in flight.
    run.reports.awaitAssert(WAIT, () -> {
      assertEquals(1, count(persisted(), RoleEvent.ContextCompacted.class));
      assertNotNull(testKit.getState().pendingCall());
      assertEquals(3, testKit.getState().pendingCall().callIndex());
      return null;
    });

    testKit.restart();
    run.reports.awaitAssert(WAIT, () -> {
      assertEquals(1, count(persisted(), RoleEvent.ModelCallRetried.class));
      return null;
    });
    gated.gate.complete(null);
    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals("Done from the summary.", outcome.output());

    List<Object> events = persisted();
    assertEquals(1, count(events, RoleEvent.CompactionRequested.class));
    assertEquals(1, count(events, RoleEvent.ContextCompacted.class));
    RoleEvent.ContextCompacted compacted = events.stream()
        .filter(RoleEvent.ContextCompacted.class::isInstance)
        .map(RoleEvent.ContextCompacted.class::cast).findFirst().orElseThrow();
    assertEquals(3, compacted.replacedTurns());
    // The model was asked to summarize once, before the crash, never after it.
    List<ModelRequest> summaries = gated.requests.stream()
        .filter(r -> r.system().equals(ToolLoop.COMPACT_SYSTEM)).toList();
    assertEquals(1, summaries.size());
    assertTrue(summaries.get(0).messages().get(0).text().contains("x".repeat(600)));
    assertTrue(summaries.get(0).tools().isEmpty());
    // Both issues of the last call (before and after the restart) went out compacted.
    List<ModelRequest> last = gated.requests.stream().filter(r -> r.callIndex() == 3).toList();
    assertEquals(2, last.size());
    for (ModelRequest r : last) {
      assertEquals(3, r.messages().size(), r.messages().toString());
      assertTrue(r.messages().get(0).text().contains("SUMMARY: wrote notes.txt"));
      assertTrue(r.messages().get(0).text().contains("Build it."));
      assertFalse(r.messages().stream().anyMatch(t -> t.text().contains("x".repeat(600))
          || t.toolCalls().stream().anyMatch(c -> c.argumentsJson().contains("x".repeat(600)))));
    }
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("context.compacted")
            && e.path("data").path("replacedTurns").asInt() == 3));
    // Four answered calls (the summary among them) and the attempt the crash cut off.
    run.reports.awaitAssert(WAIT, () -> {
      assertEquals(5, run.settled.size());
      return null;
    });
  }

  @Test
  void mcpCallsAreWrittenAheadSoACompletedOneIsNotRepeatedAndAnInFlightOneIsInDoubt()
      throws Exception {
    HarnessTestSupport.writeScript(scripts, "test", """
        {"name": "test", "roles": {"generator": [
          {"text": "", "toolCalls": [{"name": "notes__note", "arguments": {"text": "one"}}]},
          {"text": "", "toolCalls": [{"name": "notes__wait", "arguments": {}}]},
          {"choose": [
            {"whenLastToolResult": "IN DOUBT", "text": "The wait was in doubt."},
            {"text": "Waited."}]}]}}
        """);
    java.nio.file.Path script = java.nio.file.Path.of(
        getClass().getResource("/mcp/notes-server.mjs").toURI());
    var tools = HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces);
    var mcp = io.tether.actors.harness.mcp.McpTools.fromConfig(
        com.typesafe.config.ConfigFactory.parseString("""
            call-timeout = 60s
            start-timeout = 30s
            max-output-bytes = 32KiB
            browser.dir = ""
            servers.notes { command = ["node", "%s"], mounts = ["%s"] }
            """.formatted(script, script.getParent())), tools, name -> null, "/usr/bin:/bin");
    RoleServices services = new RoleServices(HarnessTestSupport.providers(scripts), tools,
        sessions, run, HarnessTestSupport.roleSettings(kit.system().settings().config()), mcp);
    var testKit = EventSourcedBehaviorTestKit.<RoleCommand, RoleEvent, RoleState>create(
        kit.system(), Generator.create(runId, services));
    current = testKit;
    RoleTask task = new RoleTask("t1", runId, "session-" + runId, Role.GENERATOR,
        TaskKind.BUILD, 1, 1, 1, "scripted:test", "Build it.", true, List.of(), List.of(),
        List.of(new io.tether.actors.harness.task.ToolGrant("notes", List.of("note", "wait"))),
        0);
    testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(task, r));
    run.reports.awaitAssert(WAIT, () -> {
      assertTrue(Files.exists(local("waiting")));
      return null;
    });

    testKit.restart();
    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals("The wait was in doubt.", outcome.output());
    List<Object> events = persisted();
    assertEquals(1, count(events, RoleEvent.ToolCallInDoubt.class));
    assertEquals(2, count(events, RoleEvent.ToolCallRequested.class));
    assertEquals(1, count(events, RoleEvent.ToolCallCompleted.class));
    assertEquals(List.of("one"), Files.readAllLines(local("notes.log")));
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("run.interrupted")
            && e.path("data").path("tool").asText().equals("notes__wait")
            && e.path("data").path("toolCall").asText().equals("in_doubt")));
    Files.writeString(local("release"), "");
  }

  @Test
  void recoveryReportsAnInFlightToolCallAsInDoubtToTheModel() throws Exception {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [
          {"text": "", "toolCalls": [{"name": "run_command", "arguments": {"command":
            "touch started; while [ ! -f release ]; do sleep 0.05; done; echo ran >> ran.txt"}}]},
          {"choose": [
            {"whenLastToolResult": "IN DOUBT", "text": "The tool was in doubt; I will check."},
            {"text": "The tool finished normally."}]}]}}
        """, -1);
    current = testKit;
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t1", "scripted:test"), r));
    run.reports.awaitAssert(WAIT, () -> {
      assertTrue(Files.exists(local("started")));
      return null;
    });

    testKit.restart();
    try {
      TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
      assertEquals("The tool was in doubt; I will check.", outcome.output());
      List<Object> events = persisted();
      assertEquals(1, count(events, RoleEvent.ToolCallInDoubt.class));
      assertEquals(0, count(events, RoleEvent.ToolCallCompleted.class));
      assertTrue(sessions.events("session-" + runId).stream()
          .anyMatch(e -> e.path("type").asText().equals("tool.result")
              && e.path("data").path("status").asText().equals("in_doubt")));
    } finally {
      Files.writeString(local("release"), "");
    }
  }

  @Test
  void aRefusedBudgetFailsTheTaskBeforeAnyModelCall() {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [{"text": "never"}]}}
        """, -1);
    current = testKit;
    run.refusal = "token budget spent: 100 of 100";
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t1", "scripted:test"), r));
    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertFalse(outcome.succeeded());
    assertEquals("budget: token budget spent: 100 of 100", outcome.output());
    assertEquals(0, count(persisted(), RoleEvent.ModelCallRequested.class));
  }

  @Test
  void cancelFencesTheTaskAndIgnoresTheLateAnswer() {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [{"text": "too late"}]}}
        """, 0);
    current = testKit;
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t1", "gated:test"), r));
    run.reports.awaitAssert(WAIT, () -> {
      assertNotNull(testKit.getState().pendingCall());
      return null;
    });
    var cancelled = testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.CancelTask("t1", r));
    assertTrue(cancelled.reply().isSuccess());
    gated.gate.complete(null);
    run.reports.expectNoMessage(Duration.ofMillis(500));
    assertEquals(RoleState.Status.CANCELLED, testKit.getState().status());
    assertEquals(0, count(persisted(), RoleEvent.ModelCallCompleted.class));
    assertFalse(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("message.delta")));
  }

  /** Fails the first attempt of every call, like an overloaded provider, then answers. */
  static final class FlakyProvider implements ModelProvider {
    final ScriptedProvider script;
    final java.util.Set<Long> failed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    FlakyProvider(ScriptedProvider script) {
      this.script = script;
    }

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public boolean scripted() {
      return true;
    }

    @Override
    public CompletionStage<ModelResponse> stream(ModelRequest request,
        ModelStreamListener listener) {
      if (failed.add(request.callIndex())) {
        return CompletableFuture.failedFuture(
            new ModelProviderException("flaky call failed: Overloaded", null));
      }
      return script.stream(request, listener);
    }
  }

  @Test
  void aFailedModelCallIsRetriedAndRecordedAsARetry() {
    HarnessTestSupport.writeScript(scripts, "test", """
        {"name": "test", "roles": {"generator": [{"text": "Answered on the retry."}]}}
        """);
    RoleServices services = new RoleServices(
        HarnessTestSupport.providers(scripts, new FlakyProvider(
            new ScriptedProvider(scripts, HarnessTestSupport.BLOCKING))),
        HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces),
        sessions, run, HarnessTestSupport.roleSettings(kit.system().settings().config()));
    var testKit = EventSourcedBehaviorTestKit.<RoleCommand, RoleEvent,
        RoleState>create(kit.system(), Generator.create(runId, services));
    current = testKit;
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t1", "flaky:test"), r));
    TaskOutcome outcome = run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals("Answered on the retry.", outcome.output());
    RoleEvent.ModelCallRetried retried = persisted().stream()
        .filter(RoleEvent.ModelCallRetried.class::isInstance)
        .map(RoleEvent.ModelCallRetried.class::cast).findFirst().orElseThrow();
    assertEquals(2, retried.attempt());
    assertTrue(retried.reason().contains("Overloaded"));
    assertTrue(sessions.events("session-" + runId).stream()
        .anyMatch(e -> e.path("type").asText().equals("message.end")
            && e.path("data").path("status").asText().equals("error")));
  }

  @Test
  void continuousContextCarriesTheConversationAcrossTasksAndResetStartsFresh() {
    var testKit = generator("""
        {"name": "test", "roles": {"generator": [{"text": "first"}, {"text": "second"},
          {"text": "third"}]}}
        """, -1);
    current = testKit;
    RoleTask first = task("t1", "scripted:test");
    testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(first, r));
    run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    RoleTask continued = new RoleTask("t2", runId, "session-" + runId, Role.GENERATOR,
        TaskKind.BUILD, 1, 2, 1, "scripted:test", "Go on.", false, List.of());
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(continued, r));
    run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals(4, testKit.getState().messages().size());
    testKit.<StatusReply<Accepted>>runCommand(
        r -> new RoleCommand.Perform(task("t3", "scripted:test"), r));
    run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    assertEquals(2, testKit.getState().messages().size());
  }

  @Test
  void theToolsOfATaskHaveEgressExactlyWhenItsRunsPolicyGivesIt() throws Exception {
    // A listener on the node's non-loopback address: beyond the run's loopback.
    InetAddress address = io.tether.actors.harness.workspace.Sandboxes.nonLoopbackAddress();
    try (ServerSocket beyond = new ServerSocket(0, 50, address)) {
      String connect = "bash -c 'exec 3<>/dev/tcp/" + address.getHostAddress() + "/"
          + beyond.getLocalPort() + "' 2>&1 && echo connected";
      String call = "{\"text\": \"\", \"toolCalls\": [{\"name\": \"run_command\","
          + " \"arguments\": {\"command\": \"" + connect + "\"}}]}";
      var testKit = generator("{\"name\": \"test\", \"roles\": {\"generator\": [" + call
          + ", {\"text\": \"with\"}, " + call + ", {\"text\": \"without\"}]}}", -1);
      current = testKit;
      RoleTask withEgress = new RoleTask("t1", runId, "session-" + runId, Role.GENERATOR,
          TaskKind.BUILD, 1, 1, 1, "scripted:test", "Build it.", true, List.of(), List.of(),
          List.of(), 0, true);
      testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(withEgress, r));
      run.reports.expectMessageClass(TaskOutcome.class, WAIT);
      RoleTask without = task("t2", "scripted:test");
      testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(without, r));
      run.reports.expectMessageClass(TaskOutcome.class, WAIT);
      List<String> outputs = persisted().stream()
          .filter(RoleEvent.ToolCallCompleted.class::isInstance)
          .map(e -> ((RoleEvent.ToolCallCompleted) e).output()).toList();
      assertEquals(2, outputs.size(), outputs.toString());
      assertEquals("exit_code=0\nconnected", outputs.get(0).trim());
      assertTrue(outputs.get(1).contains("Network is unreachable"), outputs.get(1));
    }
  }

  @Test
  void aToolTheRoleMayNotUseIsRefusedNotRun() throws Exception {
    HarnessTestSupport.writeScript(scripts, "test", """
        {"name": "test", "roles": {"evaluator": [
          {"text": "", "toolCalls": [{"name": "write_file",
            "arguments": {"path": "verdict.txt", "content": "I fixed it myself"}}]},
          {"text": "done"}]}}
        """);
    RoleServices services = new RoleServices(HarnessTestSupport.providers(scripts),
        HarnessTestSupport.tools(new SpawnedWorkspaces(kit), workspaces),
        sessions, run, HarnessTestSupport.roleSettings(kit.system().settings().config()));
    var testKit = EventSourcedBehaviorTestKit.<RoleCommand, RoleEvent,
        RoleState>create(kit.system(), Evaluator.create(runId, services));
    RoleTask task = new RoleTask("t1", runId, "session-" + runId, Role.EVALUATOR,
        TaskKind.EVALUATE, 1, 1, 1, "scripted:test", "Evaluate.", true, List.of());
    testKit.<StatusReply<Accepted>>runCommand(r -> new RoleCommand.Perform(task, r));
    run.reports.expectMessageClass(TaskOutcome.class, WAIT);
    List<ChatTurnView> results = testKit.getState().messages().stream()
        .filter(m -> m.kind() == io.tether.actors.harness.model.ChatTurn.Kind.TOOL_RESULT)
        .map(m -> new ChatTurnView(m.text())).toList();
    assertTrue(results.get(0).text().contains("may not use the tool write_file"));
    assertFalse(Files.exists(local("verdict.txt")));
    run.reports.awaitAssert(WAIT, () -> {
      assertTrue(sessions.events("session-" + runId).stream()
          .anyMatch(e -> e.path("type").asText().equals("tool.result")
              && e.path("data").path("status").asText().equals("error")));
      return null;
    });
  }

  private record ChatTurnView(String text) {}
}
