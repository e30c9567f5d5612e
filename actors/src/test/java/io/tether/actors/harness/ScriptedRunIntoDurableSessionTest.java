package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.role.Generator;
import io.tether.actors.harness.role.RoleCommand;
import io.tether.actors.harness.role.RoleState;
import io.tether.actors.harness.run.Phase;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunSummary;
import io.tether.actors.harness.task.TaskKind;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The harness writing into the real durable session (the Session entity in JSON mode): a client
 * reading the run's session gets every role's events with session-assigned offsets, each
 * producer's events in order; and a cancel in the middle of a build ends the run at a fence
 * within one model turn.
 */
class ScriptedRunIntoDurableSessionTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static ActorTestKit kit;
  private static SessionStreams streams;

  @BeforeAll
  static void start() throws Exception {
    Config config = ConfigFactory.parseString(HarnessTestSupport.CLUSTER_NODE + """
            tether.harness.session-writer = "session-entity"
            tether.session.read-journal-plugin-id = "pekko.persistence.testkit.query"
            """)
        .withFallback(ConfigFactory.parseMap(Map.of("tether.harness.workspace.root",
            Files.createTempDirectory("tether-session-e2e").toString())))
        .withFallback(PersistenceTestKitPlugin.getInstance().config())
        .withFallback(PersistenceTestKitSnapshotPlugin.config())
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    kit = ActorTestKit.create("ScriptedRunIntoDurableSessionTest", config);
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(kit.system());
    Harness.init(kit.system());
    streams = new SessionStreams(kit.system(), Duration.ofSeconds(10));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static EntityRef<RunCommand> start(String runId) throws Exception {
    RunPolicy defaults = Harness.get(kit.system()).settings().defaultPolicy();
    RunPolicy policy = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.RESET, 2, 3, defaults.rubric(), defaults.budget());
    var run = ClusterSharding.get(kit.system()).entityRefFor(Run.ENTITY_TYPE_KEY, runId);
    run.<RunSummary>askWithStatus(r -> new RunCommand.Start("Slugs from titles.",
            Map.of("planner", "scripted:demo", "generator", "scripted:demo", "evaluator",
                "scripted:demo"), policy, runId + "-session", r), Duration.ofSeconds(30))
        .toCompletableFuture().get();
    return run;
  }

  private static RunSummary describe(EntityRef<RunCommand> run) throws Exception {
    return run.<RunSummary>askWithStatus(RunCommand.Describe::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();
  }

  /** What a client reading the whole session gets: each item with its offset. */
  private static List<JsonNode> read(String sessionId) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    Offset from = Offset.ZERO;
    while (true) {
      Session.ReadReply reply = streams.read(sessionId,
          new Session.ReadSpec(from, false, null, 1 << 20, 0, false)).toCompletableFuture().get();
      Session.ReadResult result = (Session.ReadResult) reply;
      for (byte[] item : result.items()) {
        out.add(JSON.readTree(item));
      }
      from = result.next();
      if (result.upToDate()) {
        return out;
      }
    }
  }

  @Test
  void aClientReadingTheSessionSeesEveryRoleInOrder() throws Exception {
    EntityRef<RunCommand> run = start("durable-1");
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(90), Duration.ofMillis(200), () -> {
      assertEquals(Phase.COMPLETED, describe(run).phase());
      return null;
    });
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      List<JsonNode> events = read("durable-1-session");
      assertEquals(24, events.stream()
          .filter(e -> e.path("type").asText().equals("message.end")).count());
      assertEquals("run.end", events.stream().filter(e -> e.path("producer").asText()
          .equals("run")).reduce((a, b) -> b).orElseThrow().path("type").asText());
      return null;
    });
    List<JsonNode> events = read("durable-1-session");
    for (String producer : List.of("planner", "generator", "evaluator")) {
      String open = null;
      for (JsonNode e : events) {
        if (!e.path("producer").asText().equals(producer)) {
          continue;
        }
        String type = e.path("type").asText();
        String callId = e.path("data").path("callId").asText();
        if (type.equals("message.start")) {
          assertEquals(null, open, producer + " started " + callId + " inside " + open);
          open = callId;
        } else if (type.equals("message.delta") || type.equals("message.end")) {
          assertEquals(open, callId, producer + " " + type + " outside its message");
          if (type.equals("message.end")) {
            open = null;
          }
        }
      }
    }
    List<Boolean> verdicts = events.stream()
        .filter(e -> e.path("type").asText().equals("evaluation.scores"))
        .map(e -> e.path("data").path("passed").asBoolean()).toList();
    assertEquals(List.of(false, true, true), verdicts, events.stream()
        .filter(e -> !e.path("type").asText().startsWith("message."))
        .map(e -> e.path("producer").asText() + ":" + e.path("type").asText()).toList()
        .toString());
  }

  @Test
  void cancelInTheMiddleOfABuildStopsTheRunWithinOneModelTurn() throws Exception {
    EntityRef<RunCommand> run = start("durable-2");
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(20), () -> {
      assertEquals(TaskKind.BUILD.name().toLowerCase(), describe(run).activeTask());
      return null;
    });
    RunSummary cancelled = run.<RunSummary>askWithStatus(
            r -> new RunCommand.Cancel("stop, please", null, r), Duration.ofSeconds(10))
        .toCompletableFuture().get();
    assertEquals(Phase.CANCELLED, cancelled.phase());

    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      RoleState generator = ClusterSharding.get(kit.system())
          .entityRefFor(Generator.ENTITY_TYPE_KEY, "durable-2")
          .<RoleState>ask(RoleCommand.GetState::new, Duration.ofSeconds(5))
          .toCompletableFuture().get();
      // Cancelled, or its build had just finished when the cancel arrived: never still going.
      assertTrue(generator.status() == RoleState.Status.CANCELLED
          || generator.status() == RoleState.Status.COMPLETED, generator.status().name());
      assertTrue(generator.reported());
      return null;
    });
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      assertTrue(read("durable-2-session").stream()
          .anyMatch(e -> e.path("type").asText().equals("run.end")));
      return null;
    });
    List<JsonNode> events = read("durable-2-session");
    int cancelAt = -1;
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).path("type").asText().equals("control.ack")
          && events.get(i).path("data").path("kind").asText().equals("cancel")) {
        cancelAt = i;
      }
    }
    assertTrue(cancelAt >= 0, "the session shows the cancel");
    long startsAfter = events.subList(cancelAt, events.size()).stream()
        .filter(e -> e.path("type").asText().equals("message.start")).count();
    assertTrue(startsAfter <= 1, "model turns started after the cancel: " + startsAfter);
    assertEquals("cancelled", events.stream()
        .filter(e -> e.path("type").asText().equals("run.end")).findFirst().orElseThrow()
        .path("data").path("status").asText());
    assertTrue(describe(run).results().size() < 3);
  }

  private static Session.ControlReply control(String sessionId, Session.ControlSpec spec)
      throws Exception {
    return ClusterSharding.get(kit.system()).entityRefFor(Session.ENTITY_TYPE_KEY, sessionId)
        .<Session.ControlReply>ask(r -> new Session.Control(spec, r), Duration.ofSeconds(10))
        .toCompletableFuture().get();
  }

  @Test
  void aClientSteersAndCancelsTheRunThroughTheSession() throws Exception {
    EntityRef<RunCommand> run = start("durable-3");
    run.<RunSummary>askWithStatus(RunCommand.Pause::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();
    TestProbe<Object> probe = kit.createTestProbe();
    // As a WebSocket client would: the session persists the steer; the run follows the session.
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      assertTrue(control("durable-3-session", new Session.ControlSpec("steer", "steer-1",
          "durable-3", null, "Keep it POSIX sh.", "alice", "phone"))
          instanceof Session.ControlAccepted);
      return null;
    });
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      assertTrue(read("durable-3-session").stream().anyMatch(e ->
          e.path("type").asText().equals("control.ack")
              && e.path("producer").asText().equals("run")
              && e.path("data").path("control").asText().equals("steer-1")));
      return null;
    });
    run.<RunSummary>askWithStatus(RunCommand.Resume::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      assertTrue(read("durable-3-session").stream().anyMatch(e ->
          e.path("type").asText().equals("control.ack")
              && !e.path("producer").asText().equals("run")
              && e.path("data").path("control").asText().equals("steer-1")
              && e.path("data").path("consumed").asBoolean()));
      return null;
    });
    run.<RunSummary>askWithStatus(RunCommand.Pause::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();

    Session.ControlReply cancel = control("durable-3-session", new Session.ControlSpec(
        "cancel", "cancel-1", "durable-3", null, null, "alice", "phone"));
    assertTrue(cancel instanceof Session.ControlAccepted, cancel.toString());
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      RunSummary summary = describe(run);
      assertEquals(Phase.CANCELLED, summary.phase());
      assertTrue(summary.outcome().contains("cancelled through the session"),
          summary.outcome());
      return null;
    });
    List<JsonNode> events = read("durable-3-session");
    assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("run.end")
        && e.path("data").path("status").asText().equals("cancelled")));
  }
}
