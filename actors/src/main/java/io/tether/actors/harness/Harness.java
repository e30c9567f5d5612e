package io.tether.actors.harness;

import com.typesafe.config.Config;
import io.tether.actors.harness.mcp.McpTools;
import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.output.SessionStreamWriter;
import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.session.SessionStreams;
import io.tether.actors.harness.role.Evaluator;
import io.tether.actors.harness.role.Generator;
import io.tether.actors.harness.role.Planner;
import io.tether.actors.harness.role.RoleEntity;
import io.tether.actors.harness.role.RoleServices;
import io.tether.actors.harness.role.ShardedRoleDispatch;
import io.tether.actors.harness.run.Pricing;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunIndex;
import io.tether.actors.harness.run.RunServices;
import io.tether.actors.harness.run.ShardedRunLink;
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
 * The harness on one node: its services, built once per ActorSystem from {@code tether.harness}
 * (model providers, the workspace tools of this node, the session writer, the sharded links
 * between the Run and its roles), and the registration of every harness entity with cluster
 * sharding, each given the services it needs. The wiring goes one way: {@link #init} builds and
 * registers, and nothing in the harness asks for the Harness back; the HTTP API reads {@link
 * #settings()} and {@link #providers()} through {@link #get}.
 */
public final class Harness {

  private static final ExtensionId<Started> STARTED = new ExtensionId<>() {
    @Override
    public Started createExtension(ActorSystem<?> system) {
      return new Started();
    }
  };

  /** The harness started on an ActorSystem, if any. */
  private static final class Started implements Extension {
    private Harness harness;
  }

  private final HarnessSettings settings;
  private final ModelProviders providers;
  private final WorkspaceTools tools;
  private final McpTools mcp;
  private final Pricing pricing;
  private final SessionWriter sessions;
  private final RoleServices roleServices;
  private final RunServices runServices;

  private Harness(ActorSystem<?> system, HarnessSettings settings, SessionStreams streams) {
    Config harness = system.settings().config().getConfig("tether.harness");
    this.settings = settings;
    Executor blocking = system.dispatchers()
        .lookup(DispatcherSelector.fromConfig("tether.harness.tool-dispatcher"));
    this.providers = ModelProviders.fromConfig(harness.getConfig("providers"), System::getenv,
        blocking);
    WorkspaceStore workspace = new ShardedWorkspaceStore(system);
    this.tools = WorkspaceTools.fromConfig(workspace, harness.getConfig("workspace"), blocking);
    this.sessions = sessionWriter(settings.sessionWriter(), streams);
    this.pricing = new Pricing(harness);
    this.mcp = McpTools.fromConfig(harness.getConfig("mcp"), tools, System::getenv,
        harness.getString("workspace.command-path"));
    this.roleServices = new RoleServices(providers, tools, sessions,
        new ShardedRunLink(system, settings.askTimeout()), settings.role(), mcp);
    this.runServices = new RunServices(new ShardedRoleDispatch(system, settings.askTimeout()),
        workspace, sessions, pricing, settings.run(),
        settings.sessionWriter().equals("session-entity"));
  }

  private static SessionWriter sessionWriter(String kind, SessionStreams streams) {
    if (kind.equals("in-memory")) {
      return new InMemorySessionWriter();
    }
    if (kind.equals("session-entity")) {
      return new SessionStreamWriter(streams);
    }
    throw new IllegalArgumentException("unknown tether.harness.session-writer: " + kind);
  }

  /**
   * Starts the harness on {@code system}, writing into sessions through a {@link SessionStreams}
   * of its own (asking with {@code tether.harness.ask-timeout}).
   *
   * @see #init(ActorSystem, SessionStreams)
   */
  public static Harness init(ActorSystem<?> system) {
    HarnessSettings settings = HarnessSettings.fromConfig(system.settings().config());
    return init(system, settings, new SessionStreams(system, settings.askTimeout()));
  }

  /**
   * Starts the harness on {@code system}, writing into sessions through {@code streams} (asking
   * with {@code tether.harness.ask-timeout}): builds
   * its services and registers Workspace, RunIndex, Run, Planner, Generator and Evaluator with
   * cluster sharding. The Session entity, which the harness writes into, is registered by its
   * own {@code init}. A second call returns the harness already started.
   */
  public static Harness init(ActorSystem<?> system, SessionStreams streams) {
    HarnessSettings settings = HarnessSettings.fromConfig(system.settings().config());
    return init(system, settings, streams.withAskTimeout(settings.askTimeout()));
  }

  private static Harness init(ActorSystem<?> system, HarnessSettings settings,
      SessionStreams streams) {
    Started started = system.registerExtension(STARTED);
    synchronized (started) {
      if (started.harness == null) {
        Harness harness = new Harness(system, settings, streams);
        harness.register(system);
        started.harness = harness;
      }
      return started.harness;
    }
  }

  private void register(ActorSystem<?> system) {
    Workspace.init(system);
    RunIndex.init(system, settings.runIndexSize());
    Run.init(system, runServices, settings.rememberRuns());
    RoleEntity.init(system, Planner.ENTITY_TYPE_KEY, Planner.PROFILE, roleServices);
    RoleEntity.init(system, Generator.ENTITY_TYPE_KEY, Generator.PROFILE, roleServices);
    RoleEntity.init(system, Evaluator.ENTITY_TYPE_KEY, Evaluator.PROFILE, roleServices);
  }

  /** The harness {@link #init} started on {@code system}. */
  public static Harness get(ActorSystem<?> system) {
    Started started = system.registerExtension(STARTED);
    synchronized (started) {
      if (started.harness == null) {
        throw new IllegalStateException(
            "no harness on " + system.name() + ": Harness.init was not called");
      }
      return started.harness;
    }
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

  /** The prices of models. */
  public Pricing pricing() {
    return pricing;
  }

  /** The MCP servers of this node (the browser among them). */
  public McpTools mcp() {
    return mcp;
  }

  /** The workspace tools of this node. */
  public WorkspaceTools tools() {
    return tools;
  }
}
