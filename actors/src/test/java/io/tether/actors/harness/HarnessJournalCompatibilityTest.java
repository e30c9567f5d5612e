package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.role.RoleEvent;
import io.tether.actors.harness.role.RoleState;
import io.tether.actors.harness.run.Phase;
import io.tether.actors.harness.run.RunEvent;
import io.tether.actors.harness.run.RunIndex;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunState;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.harness.workspace.Workspace;
import io.tether.persistence.TetherSerializable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Journals written by earlier versions stay readable: one instance of every event and snapshot
 * state class the harness persists (Run, the roles, RunIndex, Workspace) was serialized by the
 * node's serializer and committed under {@code src/test/resources/journal/harness/} with its
 * serializer id and manifest (the class name Pekko's Jackson serializer writes). Each is read
 * back through the node's serialization config, renames passing through the migrations in
 * {@code tether-serialization.conf}, and must equal the instance built here with today's classes;
 * today's classes must also write the same JSON.
 *
 * <p>A new persisted class needs a golden entry: run this test once with
 * {@code -Dtether.journal.record=true}, which writes the entries that are missing and never
 * rewrites one that exists, and commit the files.
 */
class HarnessJournalCompatibilityTest {

  private static final Path GOLDEN = Path.of("src/test/resources/journal/harness");
  private static final String INDEX = "index.tsv";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final ActorTestKit kit = ActorTestKit.create("JournalCompatibilityTest",
      ConfigFactory.parseResources("tether-serialization.conf")
          .withFallback(ConfigFactory.load()).resolve());

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private record Golden(String key, int serializerId, String manifest, byte[] bytes) {}

  @Test
  void readsEveryJournaledClassAsEarlierVersionsWroteIt() throws IOException {
    Map<String, Object> expected = expected();
    for (Golden g : golden()) {
      Object read = serialization().deserialize(g.bytes(), g.serializerId(), g.manifest()).get();
      assertEquals(expected.get(g.key()), read, g.key() + " (written as " + g.manifest() + ")");
    }
  }

  @Test
  void writesTheJsonEarlierVersionsWrote() throws IOException {
    Map<String, Object> expected = expected();
    for (Golden g : golden()) {
      Object value = expected.get(g.key());
      Serializer serializer = serialization().findSerializerFor(value);
      assertEquals(g.serializerId(), serializer.identifier(), g.key());
      assertContains(JSON.readTree(g.bytes()), JSON.readTree(serializer.toBinary(value)),
          g.key());
    }
  }

  /**
   * Every field {@code golden} has, {@code written} has with the same value; fields added since
   * are allowed (an earlier version reading them ignores them, as contributing.md says).
   */
  private static void assertContains(JsonNode golden, JsonNode written, String where) {
    if (golden.isObject()) {
      assertTrue(written.isObject(), where + " is no longer an object: " + written);
      golden.fields().forEachRemaining(f -> {
        assertTrue(written.has(f.getKey()), where + "." + f.getKey() + " is no longer written");
        assertContains(f.getValue(), written.get(f.getKey()), where + "." + f.getKey());
      });
    } else if (golden.isArray()) {
      assertEquals(golden.size(), written.size(), where);
      for (int i = 0; i < golden.size(); i++) {
        assertContains(golden.get(i), written.get(i), where + "[" + i + "]");
      }
    } else {
      assertEquals(golden, written, where);
    }
  }

  @Test
  void hasAGoldenEntryForEveryJournaledClass() throws IOException {
    Map<String, Object> expected = expected();
    Set<String> recorded = new TreeSet<>();
    for (Golden g : golden()) {
      recorded.add(g.key());
    }
    assertEquals(new TreeSet<>(expected.keySet()), recorded,
        "every instance built here has a golden entry, and every golden entry an instance");
    Set<Class<?>> covered = new HashSet<>();
    expected.values().forEach(v -> covered.add(v.getClass()));
    for (Class<?> persisted : persistedClasses()) {
      assertTrue(covered.contains(persisted), "no golden instance of " + persisted.getName());
    }
  }

  @Test
  void mapsEveryRenamedClassInTheNodesSerializationConfig() {
    Config migrations = ConfigFactory.parseResources("tether-serialization.conf")
        .getConfig("pekko.serialization.jackson.migrations");
    assertEquals(new TreeSet<>(HarnessClassRenames.RENAMED.keySet()),
        new TreeSet<>(migrations.root().keySet()),
        "tether-serialization.conf lists exactly the classes HarnessClassRenames maps");
    for (Map.Entry<String, String> renamed : HarnessClassRenames.RENAMED.entrySet()) {
      assertEquals(HarnessClassRenames.class.getName(),
          migrations.root().get(renamed.getKey()).unwrapped(), renamed.getKey());
      assertThrows(ClassNotFoundException.class, () -> Class.forName(renamed.getKey()),
          "the old name no longer names a class");
      Class<?> now = assertDoesNotThrow(() -> Class.forName(renamed.getValue()),
          renamed.getKey() + " maps to a class");
      assertTrue(TetherSerializable.class.isAssignableFrom(now), now.getName());
    }
  }

  /** Every event class (the permitted subclasses of the entities' event interfaces) and state. */
  private static List<Class<?>> persistedClasses() {
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> events : List.of(RunEvent.class, RoleEvent.class, RunIndex.Event.class,
        Workspace.Event.class)) {
      classes.addAll(List.of(events.getPermittedSubclasses()));
    }
    classes.addAll(List.of(RunState.class, RoleState.class, RunIndex.State.class,
        Workspace.State.class));
    return classes;
  }

  private static Serialization serialization() {
    return SerializationExtension.get(kit.system().classicSystem());
  }

  private static List<Golden> golden() throws IOException {
    if (Boolean.getBoolean("tether.journal.record")) {
      record(expected());
    }
    Path index = GOLDEN.resolve(INDEX);
    if (!Files.exists(index)) {
      fail("no golden journal entries at " + index.toAbsolutePath());
    }
    List<Golden> entries = new ArrayList<>();
    for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t");
      entries.add(new Golden(f[0], Integer.parseInt(f[1]), f[2],
          Files.readAllBytes(GOLDEN.resolve(f[0] + ".json"))));
    }
    return entries;
  }

  /** Writes the entries the index lacks; an existing entry is never rewritten. */
  private static void record(Map<String, Object> expected) throws IOException {
    Files.createDirectories(GOLDEN);
    Path index = GOLDEN.resolve(INDEX);
    List<String> lines = Files.exists(index)
        ? new ArrayList<>(Files.readAllLines(index, StandardCharsets.UTF_8))
        : new ArrayList<>(List.of("# key\tserializer id\tmanifest (the file is <key>.json)"));
    Set<String> known = new HashSet<>();
    lines.forEach(l -> known.add(l.split("\t")[0]));
    for (Map.Entry<String, Object> e : expected.entrySet()) {
      if (known.contains(e.getKey())) {
        continue;
      }
      Serializer serializer = serialization().findSerializerFor(e.getValue());
      Files.write(GOLDEN.resolve(e.getKey() + ".json"), serializer.toBinary(e.getValue()));
      lines.add(e.getKey() + "\t" + serializer.identifier() + "\t"
          + Serializers.manifestFor(serializer, e.getValue()));
    }
    Files.write(index, lines, StandardCharsets.UTF_8);
  }

  /**
   * One instance per persisted class, keyed by the class's name when its golden entry was
   * recorded. Sets hold one element, so their JSON has one order.
   */
  static Map<String, Object> expected() {
    Map<String, Object> m = new LinkedHashMap<>();
    RunPolicy policy = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.RESET, 2, 3,
        List.of(new RunPolicy.Criterion("functionality", 0.75, 7),
            new RunPolicy.Criterion("tests", 0.25, 6)),
        new RunPolicy.Budget(100_000, 2.5, 3_600_000));
    Map<String, String> models = Map.of("planner", "scripted:demo",
        "generator", "anthropic:claude-sonnet-4-5", "evaluator", "scripted:demo");
    RoleTask task = new RoleTask("t4", "run-1", "run-run-1", Role.GENERATOR, TaskKind.BUILD, 1,
        2, 1, "anthropic:claude-sonnet-4-5", "Build sprint 1", true, List.of("use kebab case"),
        List.of("steer-1"));
    Map<String, Double> scores = Map.of("functionality", 8.0, "tests", 5.0);

    m.put("Run.RunStarted", new RunEvent.RunStarted("A slugifier.", models, policy, "run-run-1",
        1_700_000_000_000L));
    m.put("Run.TaskDispatched", new RunEvent.TaskDispatched(task));
    m.put("Run.SpecAccepted", new RunEvent.SpecAccepted("# Spec\n## Sprint 1: Core\n",
        List.of("Core", "Edges")));
    m.put("Run.ContractProposed", new RunEvent.ContractProposed(1, 2, "contract v2"));
    m.put("Run.ContractReviewed",
        new RunEvent.ContractReviewed(1, 2, false, "name the test", true));
    m.put("Run.BuildReported", new RunEvent.BuildReported(1, 2, "built it"));
    m.put("Run.SprintEvaluated", new RunEvent.SprintEvaluated(1, 2, scores, 7.25, false,
        List.of("tests 5 < 6"), "tests/test.sh exits 1"));
    m.put("Run.PhaseEntered", new RunEvent.PhaseEntered(Phase.BUILDING, 1, 2, 1));
    m.put("Run.RunPaused", new RunEvent.RunPaused());
    m.put("Run.RunResumed", new RunEvent.RunResumed());
    m.put("Run.SteerReceived", new RunEvent.SteerReceived("steer-1", "use kebab case"));
    m.put("Run.UsageSettled", new RunEvent.UsageSettled("generator-3", Role.GENERATOR,
        "anthropic:claude-sonnet-4-5", 1200, 340, 0.0087));
    m.put("Run.RunEnded", new RunEvent.RunEnded(Phase.FAILED, "sprint 1 failed after 3 attempts"));
    m.put("Run.State", new RunState("run-1",
        new RunState.Setup("A slugifier.", "run-run-1", models, policy, 1_700_000_000_000L),
        new RunState.Progress(Phase.BUILDING, 1, 2, 1, true),
        new RunState.Artifacts("# Spec", List.of("Core", "Edges"), "contract v2", "name the test",
            "tests/test.sh exits 1", "built it"),
        task, 4, List.of(new RunState.Steer("steer-2", "add a README")),
        List.of(new RunState.SprintResult(1, 1, scores, 7.25, false)),
        new RunState.Ledger(1200, 340, 0.0087, Set.of("generator-3"), null, null), null,
        List.of("steer-1", "steer-2")));

    ToolCall call = new ToolCall("tc-1", "run_command", "{\"command\":\"tests/test.sh\"}");
    m.put("RoleEntity.TaskStarted", new RoleEvent.TaskStarted(task));
    m.put("RoleEntity.ModelCallRequested",
        new RoleEvent.ModelCallRequested("generator-3", 3, 1, "anthropic:claude-sonnet-4-5"));
    m.put("RoleEntity.ModelCallRetried",
        new RoleEvent.ModelCallRetried("generator-3", 2, "re-issued after recovery"));
    m.put("RoleEntity.ModelCallCompleted", new RoleEvent.ModelCallCompleted("generator-3",
        ChatTurn.assistant("Running the tests.", List.of(call)), new TokenUsage(1200, 340)));
    m.put("RoleEntity.ToolCallRequested", new RoleEvent.ToolCallRequested(call));
    m.put("RoleEntity.ToolCallCompleted",
        new RoleEvent.ToolCallCompleted("tc-1", "exit 1: 2 tests failed", true));
    m.put("RoleEntity.ToolCallInDoubt", new RoleEvent.ToolCallInDoubt("tc-1"));
    m.put("RoleEntity.TaskCompleted", new RoleEvent.TaskCompleted("t4", "built it"));
    m.put("RoleEntity.TaskFailed", new RoleEvent.TaskFailed("t4", "budget: spent"));
    m.put("RoleEntity.TaskCancelled", new RoleEvent.TaskCancelled("t3", "superseded by t4"));
    m.put("RoleEntity.TaskReported", new RoleEvent.TaskReported("t4"));
    m.put("RoleEntity.State", new RoleState(task, RoleState.Status.ACTIVE, null, false,
        List.of(ChatTurn.user("Build sprint 1"),
            ChatTurn.assistant("Running the tests.", List.of(call)),
            ChatTurn.toolResult(call, "exit 1")),
        4, 2, new RoleState.PendingCall("generator-4", 4, 1, "anthropic:claude-sonnet-4-5"),
        List.of(call), "tc-1", 7, List.of("t1", "t2", "t3")));

    // Since the MCP tools, compaction and per-role and per-sprint spend (issue 15).
    RunPolicy withTools = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.COMPACT, 0, 2,
        List.of(new RunPolicy.Criterion("functionality", 1, 7)),
        new RunPolicy.Budget(100_000, 2.5, 3_600_000),
        List.of(new RunPolicy.ToolServer("browser", Map.of("evaluator", List.of("*")))),
        40_000, Map.of("openai:local-model", new RunPolicy.Price(0.1, 0.2)), false);
    m.put("Run.RunStarted.v2", new RunEvent.RunStarted("A counter page.", models, withTools,
        "run-run-2", 1_700_000_000_000L));
    RoleTask toolTask = new RoleTask("t3", "run-2", "run-run-2", Role.EVALUATOR,
        TaskKind.EVALUATE, 1, 1, 0, "scripted:browser-demo", "Verify sprint 1", false,
        List.of(), List.of(),
        List.of(new io.tether.actors.harness.task.ToolGrant("browser", List.of("*"))), 40_000);
    m.put("RoleEntity.TaskStarted.v2", new RoleEvent.TaskStarted(toolTask));
    m.put("Run.UsageSettled.v2", new RunEvent.UsageSettled("evaluator-2#1", Role.EVALUATOR,
        "anthropic:claude-sonnet-4-5", 900, 0, 0.0027, 1, true));
    m.put("Run.State.v2", new RunState("run-2",
        new RunState.Setup("A counter page.", "run-run-2", models, withTools,
            1_700_000_000_000L),
        new RunState.Progress(Phase.EVALUATING, 1, 1, 0, false),
        new RunState.Artifacts("# Spec", List.of("Counter"), null, null, null, "built it"),
        toolTask, 3, List.of(), List.of(),
        new RunState.Ledger(900, 0, 0.0027, Set.of("evaluator-2#1"),
            Map.of("evaluator", new RunState.Spend(900, 0, 0.0027, 1, 1)),
            Map.of("1", new RunState.Spend(900, 0, 0.0027, 1, 1))), null, List.of()));

    // Since per-run egress (issue 17): the policy's egress, carried by each role task.
    m.put("Run.RunStarted.v3", new RunEvent.RunStarted("A counter page.", models,
        withTools.withEgress(true), "run-run-3", 1_700_000_000_000L));
    m.put("RoleEntity.TaskStarted.v3", new RoleEvent.TaskStarted(new RoleTask("t5", "run-3",
        "run-run-3", Role.GENERATOR, TaskKind.BUILD, 1, 1, 0, "scripted:browser-demo",
        "Build sprint 1", true, List.of(), List.of(), List.of(), 0, true)));

    m.put("RoleEntity.CompactionRequested", new RoleEvent.CompactionRequested("generator-9", 9,
        1, "anthropic:claude-sonnet-4-5", 14));
    m.put("RoleEntity.ContextCompacted", new RoleEvent.ContextCompacted("generator-9",
        "Wrote slug.sh; tests fail on punctuation.", 14, new TokenUsage(5200, 180)));
    m.put("RoleEntity.State.v2", new RoleState(toolTask, RoleState.Status.ACTIVE, null, false,
        List.of(ChatTurn.user("Verify sprint 1")), 10, 1,
        new RoleState.PendingCall("evaluator-10", 10, 2, "anthropic:claude-sonnet-4-5", 12),
        List.of(), null, 4, List.of("t1")));

    RunIndex.Entry entry = new RunIndex.Entry("run-1", "run-run-1", "A slugifier.",
        1_700_000_000_000L);
    m.put("RunIndex.RunRegistered", new RunIndex.RunRegistered(entry));
    m.put("RunIndex.State", new RunIndex.State(List.of(entry,
        new RunIndex.Entry("run-2", "run-run-2", "A todo app.", 1_700_000_100_000L))));

    m.put("Workspace.FileWritten", new Workspace.FileWritten("spec.md", "# Spec\n", "run"));
    m.put("Workspace.State", new Workspace.State(3, Map.of("spec.md", "# Spec\n",
        "contracts/sprint-1.md", "contract v2")));
    return m;
  }
}
