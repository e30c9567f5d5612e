package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.tether.actors.session.Session;
import io.tether.persistence.testkit.TestCassandra;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on the Cassandra journal; the node running the generator's slow tool call leaves
 * the cluster. Its shards move to the other node; the run (remembered while it runs) and the
 * generator (woken by the run's periodic re-send of its task) recover there by themselves. The
 * interrupted tool is in doubt, the completed one is not repeated, and the durable workspace is
 * materialized on the new node, where the run finishes.
 */
class HarnessFailoverTest {

  private static final String SCRIPT = """
      {"name": "failover", "roles": {
        "planner": [{"text": "# Failover spec"}],
        "generator": [
          {"text": "", "toolCalls": [{"name": "write_file",
            "arguments": {"path": "notes.md", "content": "written before the failover"}}]},
          {"text": "", "toolCalls": [{"name": "run_command",
            "arguments": {"command": "echo once >> steps.log"}}]},
          {"text": "", "toolCalls": [{"name": "run_command", "arguments":
            {"command": "touch started; while [ ! -f release ]; do sleep 0.1; done"}}]},
          {"choose": [
            {"whenLastToolResult": "IN DOUBT", "text": "", "toolCalls": [{"name": "run_command",
              "arguments": {"command": "cat notes.md > finished.txt"}}]},
            {"text": "no doubt"}]},
          {"text": "done"}],
        "evaluator": [{"text": "{\\"scores\\": {\\"functionality\\": 9, \\"code-quality\\": 9, \\"tests\\": 9}}"}]
      }}
      """;

  private ActorTestKit a;
  private ActorTestKit b;
  private Path work;

  private ActorTestKit node(Config cassandra, Path root, Path scripts) {
    Config config = ConfigFactory.parseString(HarnessTestSupport.CLUSTER_NODE + """
            pekko.cluster.sharding.remember-entities-store = eventsourced
            tether.harness.session-writer = "session-entity"
            tether.harness.task-check-interval = 1s
            """)
        .withFallback(ConfigFactory.parseMap(Map.of(
            "tether.harness.workspace.root", root.toString(),
            "tether.harness.providers.scripted.directory", scripts.toString())))
        .withFallback(cassandra)
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    return ActorTestKit.create("HarnessFailoverTest", config);
  }

  @AfterEach
  void stop() throws Exception {
    if (work != null) {
      for (String root : List.of("a", "b")) {
        Path dir = work.resolve(root).resolve("failover-1");
        if (Files.isDirectory(dir)) {
          Files.writeString(dir.resolve("release"), "");
        }
      }
    }
    if (a != null) {
      a.shutdownTestKit();
    }
    if (b != null) {
      b.shutdownTestKit();
    }
  }

  @Test
  void aRunFollowsItsShardsWhenTheGeneratorsNodeLeaves() throws Exception {
    work = io.tether.actors.harness.workspace.Sandboxes.reachable(Files.createTempDirectory("tether-harness-failover"));
    Path scripts = Files.createDirectories(work.resolve("scripts"));
    Files.writeString(scripts.resolve("failover.json"), SCRIPT);
    Config cassandra = TestCassandra.get().configFor("HarnessFailoverTest");
    a = node(cassandra, work.resolve("a"), scripts);
    b = node(cassandra, work.resolve("b"), scripts);
    Cluster clusterA = Cluster.get(a.system());
    clusterA.manager().tell(Join.create(clusterA.selfMember().address()));
    Cluster.get(b.system()).manager().tell(Join.create(clusterA.selfMember().address()));
    TestProbe<Object> probe = a.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(2, clusterA.state().members().count(m -> m.status() == MemberStatus.up()));
      return null;
    });
    for (ActorTestKit kit : List.of(a, b)) {
      io.tether.actors.session.stream.SessionEntity.init(kit.system());
      Harness.init(kit.system());
    }

    RunPolicy defaults = Harness.get(a.system()).settings().defaultPolicy();
    ClusterSharding.get(a.system()).entityRefFor(Run.ENTITY_TYPE_KEY, "failover-1")
        .<RunSummary>askWithStatus(r -> new RunCommand.Start("Survive a node leaving.",
            Map.of("planner", "scripted:failover", "generator", "scripted:failover",
                "evaluator", "scripted:failover"),
            new RunPolicy(false, RunPolicy.EvaluatorMode.PER_SPRINT, RunPolicy.ContextMode.RESET,
                0, 1, defaults.rubric(), defaults.budget()), "failover-1-session", r),
            Duration.ofSeconds(30))
        .toCompletableFuture().get();

    probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      assertTrue(Files.exists(work.resolve("a/failover-1/started"))
          || Files.exists(work.resolve("b/failover-1/started")));
      return null;
    });
    boolean onA = Files.exists(work.resolve("a/failover-1/started"));
    ActorTestKit leaving = onA ? a : b;
    ActorTestKit staying = onA ? b : a;
    Path leavingDir = work.resolve(onA ? "a" : "b").resolve("failover-1");
    Path stayingDir = work.resolve(onA ? "b" : "a").resolve("failover-1");

    Cluster leavingCluster = Cluster.get(leaving.system());
    leavingCluster.manager().tell(Leave.create(leavingCluster.selfMember().address()));
    leaving.system().getWhenTerminated().toCompletableFuture().get();

    // Nobody asks for the run: the survivor resumes it on its own.
    TestProbe<Object> survivor = staying.createTestProbe();
    // The file is created by the command's redirection before its content is written: await
    // the content, not the file.
    survivor.awaitAssert(Duration.ofSeconds(90), Duration.ofMillis(200), () -> {
      Path finished = stayingDir.resolve("finished.txt");
      assertEquals("written before the failover",
          Files.exists(finished) ? Files.readString(finished) : "(no finished.txt yet)");
      return null;
    });
    assertEquals(List.of("once"), Files.readAllLines(leavingDir.resolve("steps.log")));
    assertFalse(Files.exists(stayingDir.resolve("steps.log")));

    ActorSystem<?> system = staying.system();
    survivor.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
      RunSummary summary = ClusterSharding.get(system)
          .entityRefFor(Run.ENTITY_TYPE_KEY, "failover-1")
          .<RunSummary>askWithStatus(RunCommand.Describe::new, Duration.ofSeconds(10))
          .toCompletableFuture().get();
      assertEquals(Phase.COMPLETED, summary.phase(), summary.outcome());
      return null;
    });
    RoleState generator = ClusterSharding.get(system)
        .entityRefFor(Generator.ENTITY_TYPE_KEY, "failover-1")
        .<RoleState>ask(RoleCommand.GetState::new, Duration.ofSeconds(10))
        .toCompletableFuture().get();
    assertEquals(3, generator.toolCallsCompleted());
    assertTrue(generator.messages().stream().anyMatch(m ->
        m.text().startsWith("IN DOUBT")));
  }
}
