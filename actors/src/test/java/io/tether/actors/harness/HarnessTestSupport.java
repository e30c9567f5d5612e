package io.tether.actors.harness;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.model.ModelProvider;
import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.harness.role.RoleSettings;
import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleDispatch;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.RunLink;
import io.tether.actors.harness.task.TaskOutcome;
import io.tether.actors.harness.workspace.CommandRunner;
import io.tether.actors.harness.workspace.HttpProbe;
import io.tether.actors.harness.workspace.Workspace;
import io.tether.actors.harness.workspace.WorkspaceStore;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** Shared fixtures of the harness tests: configuration and real collaborators. */
public final class HarnessTestSupport {

  private HarnessTestSupport() {}

  public static final Executor BLOCKING = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "harness-test-blocking");
    t.setDaemon(true);
    return t;
  });

  /** The event-sourced test kit's in-memory journal with the project's serialization. */
  public static Config testKitConfig() {
    return ConfigFactory.parseString("""
            pekko.loglevel = INFO
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
            tether.harness.redeliver-after = 300ms
            """)
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(EventSourcedBehaviorTestKit.config())
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  /** A cluster member on a free loopback port, logging through SLF4J: every harness node's base. */
  public static final String CLUSTER_NODE = """
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = "127.0.0.1"
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.loglevel = INFO
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
      """;

  /**
   * A one-node cluster running the Session entity on the persistence testkit (its reads of
   * older items through the testkit's query journal), without the harness.
   */
  public static ActorTestKit sessionNode(String name) {
    ActorTestKit kit = oneNodeCluster(name, ConfigFactory.parseString(
        "tether.session.read-journal-plugin-id = \"pekko.persistence.testkit.query\""));
    io.tether.actors.session.stream.SessionEntity.init(kit.system());
    return kit;
  }

  /**
   * A one-node cluster running the whole harness ({@link Harness#init}) on the persistence
   * testkit, its sessions in memory and its workspaces under {@code workspaces};
   * {@code overrides} come first (providers, prices, ...).
   */
  public static ActorTestKit harnessNode(String name, Path workspaces, Config overrides) {
    ActorTestKit kit = oneNodeCluster(name, overrides
        .withFallback(ConfigFactory.parseString("tether.harness.session-writer = \"in-memory\""))
        .withFallback(ConfigFactory.parseMap(
            Map.of("tether.harness.workspace.root", workspaces.toString()))));
    Harness.init(kit.system());
    return kit;
  }

  /** A test kit of {@code config} over a cluster member on the persistence testkit, joined. */
  private static ActorTestKit oneNodeCluster(String name, Config config) {
    ActorTestKit kit = ActorTestKit.create(name, config
        .withFallback(ConfigFactory.parseString(CLUSTER_NODE))
        .withFallback(org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin.getInstance()
            .config())
        .withFallback(org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin
            .config())
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve());
    org.apache.pekko.cluster.typed.Cluster cluster =
        org.apache.pekko.cluster.typed.Cluster.get(kit.system());
    cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(
        cluster.selfMember().address()));
    return kit;
  }

  public static RoleSettings roleSettings(Config config) {
    return RoleSettings.fromConfig(config);
  }

  /** Writes a script document into a directory the scripted provider reads. */
  public static Path writeScript(Path dir, String name, String json) {
    try {
      Files.writeString(dir.resolve(name + ".json"), json);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ModelProviders providers(Path scriptDir, ModelProvider... extra) {
    Map<String, ModelProvider> byName = new ConcurrentHashMap<>();
    byName.put(ScriptedProvider.NAME, new ScriptedProvider(scriptDir, BLOCKING));
    for (ModelProvider p : extra) {
      byName.put(p.name(), p);
    }
    return new ModelProviders(byName);
  }

  public static WorkspaceTools tools(WorkspaceStore store, Path root) {
    try {
      // The sandbox mounts a run's workspace by its path, as its own user.
      io.tether.actors.harness.workspace.Sandboxes.reachable(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new WorkspaceTools(store, root,
        new CommandRunner(Duration.ofSeconds(20), 32 * 1024, "/usr/local/bin:/usr/bin:/bin"),
        new HttpProbe(Duration.ofSeconds(5), 16 * 1024, true), 64 * 1024, BLOCKING);
  }

  /** A workspace store over real {@link Workspace} entities spawned in the test kit. */
  public static final class SpawnedWorkspaces implements WorkspaceStore {
    private final ActorTestKit kit;
    private final Map<String, ActorRef<Workspace.Command>> refs = new ConcurrentHashMap<>();

    public SpawnedWorkspaces(ActorTestKit kit) {
      this.kit = kit;
    }

    private ActorRef<Workspace.Command> ref(String runId) {
      return refs.computeIfAbsent(runId,
          id -> kit.spawn(Workspace.create(id, 256 * 1024, 500)));
    }

    @Override
    public CompletionStage<Workspace.Files> files(String runId) {
      return AskPattern.ask(ref(runId), Workspace.GetFiles::new, Duration.ofSeconds(5),
          kit.scheduler());
    }

    @Override
    public CompletionStage<Workspace.Written> write(String runId, String path, String content,
        String author) {
      return AskPattern.<Workspace.Command, org.apache.pekko.pattern.StatusReply<Workspace.Written>>ask(
              ref(runId), r -> new Workspace.WriteFile(path, content, author, r),
              Duration.ofSeconds(5), kit.scheduler())
          .thenApply(org.apache.pekko.pattern.StatusReply::getValue);
    }
  }

  /**
   * The Run side of a role, for testing a role alone: grants budget until told otherwise,
   * records settlements, and hands every report to a probe.
   */
  public static final class RecordingRunLink implements RunLink {
    public final TestProbe<TaskOutcome> reports;
    public final List<String> reservations = new CopyOnWriteArrayList<>();
    public final List<TokenUsage> settled = new CopyOnWriteArrayList<>();
    public volatile String refusal;

    public RecordingRunLink(ActorTestKit kit) {
      this.reports = kit.createTestProbe();
    }

    @Override
    public CompletionStage<BudgetDecision> reserve(String runId, String callId, Role role,
        String model) {
      reservations.add(callId);
      return CompletableFuture.completedFuture(refusal == null
          ? new BudgetDecision(true, null) : new BudgetDecision(false, refusal));
    }

    @Override
    public CompletionStage<Ack> settle(String runId, String callId, Role role, String model,
        TokenUsage usage) {
      settled.add(usage);
      return CompletableFuture.completedFuture(Ack.INSTANCE);
    }

    @Override
    public CompletionStage<Ack> report(String runId, TaskOutcome outcome) {
      reports.getRef().tell(outcome);
      return CompletableFuture.completedFuture(Ack.INSTANCE);
    }
  }

  /** The roles side of a Run, for testing the Run alone: every task and cancel goes to a probe. */
  public static final class RecordingRoleDispatch implements RoleDispatch {
    public final TestProbe<RoleTask> tasks;
    public final TestProbe<String> cancels;

    public RecordingRoleDispatch(ActorTestKit kit) {
      this.tasks = kit.createTestProbe();
      this.cancels = kit.createTestProbe();
    }

    @Override
    public CompletionStage<Accepted> perform(RoleTask task) {
      tasks.getRef().tell(task);
      return CompletableFuture.completedFuture(new Accepted(task.taskId()));
    }

    @Override
    public CompletionStage<Accepted> cancel(Role role, String runId, String taskId) {
      cancels.getRef().tell(role.wireName() + ":" + taskId);
      return CompletableFuture.completedFuture(new Accepted(taskId));
    }
  }

  /** A session writer for tests that only need somewhere to write. */
  public static SessionWriter sessions() {
    return new io.tether.actors.harness.output.InMemorySessionWriter();
  }
}
