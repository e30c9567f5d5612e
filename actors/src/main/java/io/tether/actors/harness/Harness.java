package io.tether.actors.harness;

import com.typesafe.config.Config;
import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.session.InMemorySessionWriter;
import io.tether.actors.harness.session.SessionStreamWriter;
import io.tether.actors.harness.session.SessionWriter;
import io.tether.actors.session.SessionStreams;
import io.tether.actors.harness.workspace.ShardedWorkspaceStore;
import io.tether.actors.harness.workspace.Workspace;
import io.tether.actors.harness.workspace.WorkspaceStore;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The harness's per-node services, built once per ActorSystem from {@code tether.harness}: model
 * providers, the workspace tools on this node, the session writer, and the sharded links
 * between the Run and its roles. {@link #init} registers every harness entity with sharding.
 */
public final class Harness implements Extension {

  private static final ExtensionId<Harness> ID = new ExtensionId<>() {
    @Override
    public Harness createExtension(ActorSystem<?> system) {
      return new Harness(system);
    }
  };

  private final HarnessSettings settings;
  private final ModelProviders providers;
  private final WorkspaceStore workspace;
  private final WorkspaceTools tools;
  private final SessionWriter sessions;
  private final RoleServices roleServices;
  private final Run.Services runServices;

  private Harness(ActorSystem<?> system) {
    Config root = system.settings().config();
    Config harness = root.getConfig("tether.harness");
    this.settings = HarnessSettings.fromConfig(root);
    Executor blocking = system.dispatchers()
        .lookup(DispatcherSelector.fromConfig("tether.harness.tool-dispatcher"));
    this.providers = ModelProviders.fromConfig(harness.getConfig("providers"), System::getenv,
        blocking);
    this.workspace = new ShardedWorkspaceStore(system);
    this.tools = WorkspaceTools.fromConfig(workspace, harness.getConfig("workspace"), blocking);
    this.sessions = sessionWriter(harness.getString("session-writer"), system);
    this.roleServices = new RoleServices(providers, tools, sessions,
        new ShardedRunLink(system, settings.askTimeout()), settings);
    this.runServices = new Run.Services(new ShardedRoleDispatch(system, settings.askTimeout()),
        workspace, sessions, new Pricing(harness), settings,
        harness.getString("session-writer").equals("session-entity"));
  }

  private static SessionWriter sessionWriter(String kind, ActorSystem<?> system) {
    if (kind.equals("in-memory")) {
      return new InMemorySessionWriter();
    }
    if (kind.equals("session-entity")) {
      return new SessionStreamWriter(new SessionStreams(system,
          system.settings().config().getDuration("tether.harness.ask-timeout")));
    }
    throw new IllegalArgumentException("unknown tether.harness.session-writer: " + kind);
  }

  /** The harness of {@code system}. */
  public static Harness get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /**
   * Registers Run, RunIndex, Planner, Generator, Evaluator and Workspace with cluster sharding.
   * The Session entity, which the harness writes into, is registered by its own {@code init}.
   */
  public static void init(ActorSystem<?> system) {
    Workspace.init(system);
    RunIndex.init(system);
    Run.init(system);
    Planner.init(system);
    Generator.init(system);
    Evaluator.init(system);
  }

  /** The settings. */
  public HarnessSettings settings() {
    return settings;
  }

  /** The session writer the harness writes through. */
  public SessionWriter sessions() {
    return sessions;
  }

  /** The model providers. */
  public ModelProviders providers() {
    return providers;
  }

  /** The workspace tools of this node. */
  public WorkspaceTools tools() {
    return tools;
  }

  RoleServices roleServices() {
    return roleServices;
  }

  Run.Services runServices() {
    return runServices;
  }
}
