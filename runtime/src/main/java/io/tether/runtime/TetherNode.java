package io.tether.runtime;

import com.typesafe.config.Config;
import io.tether.actors.session.SessionStreams;
import io.tether.http.HttpApi;
import io.tether.http.HttpServer;
import io.tether.persistence.cassandra.CassandraSchema;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one Tether node: the ActorSystem, every sharded entity, the HTTP API,
 * and Pekko Management (cluster state, health and {@code /metrics} on its own port).
 *
 * <p>How the node finds its cluster is the only thing that differs between modes: {@link
 * Joining#SELF} joins its own address (dev), {@link Joining#CONFIGURED} uses the configured seed
 * nodes, or Cluster Bootstrap through Pekko Management when there are none (production).
 */
public final class TetherNode {
  private static final Logger log = LoggerFactory.getLogger(TetherNode.class);

  /** How this node joins a cluster. */
  public enum Joining { SELF, CONFIGURED }

  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final Optional<String> managementUrl;

  private TetherNode(ActorSystem<Void> system, ServerBinding binding,
      Optional<String> managementUrl) {
    this.system = system;
    this.binding = binding;
    this.managementUrl = managementUrl;
  }

  /**
   * Starts a node and blocks until its HTTP port is bound (or throws if it cannot be). With
   * {@code migrate}, the schema is created before anything touches the journal (dev mode).
   */
  public static TetherNode start(Config config, Joining joining, boolean migrate) {
    CassandraSchema.checkAutocreatePolicy(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "tether", config);
    try {
      if (migrate) {
        CassandraSchema.migrate(system).toCompletableFuture().get(
            config.getDuration("tether.persistence.migrate-timeout").toMillis(), TimeUnit.MILLISECONDS);
      }
      Optional<String> management = startManagement(system, joining);
      join(system, joining);
      // The node's one client of the session entities, for the routes and the harness.
      SessionStreams streams =
          new SessionStreams(system, config.getDuration("tether.http.ask-timeout"));
      Entities.init(system, streams);
      CompletionStage<ServerBinding> bound = HttpServer.start(system, HttpApi.routes(system,
          streams));
      ServerBinding binding = bound.toCompletableFuture().get();
      log.info("Tether HTTP API listening on {}", HttpServer.baseUrl(binding));
      return new TetherNode(system, binding, management);
    } catch (Exception e) {
      if (isBindFailure(e)) {
        // A port someone else holds: the cause says it all; a stack trace would only bury it.
        log.error("Tether node failed to start; terminating: {}", rootMessage(e));
      } else {
        log.error("Tether node failed to start; terminating", e);
      }
      system.terminate();
      throw new IllegalStateException("Tether node failed to start: " + rootMessage(e), e);
    }
  }

  /**
   * Starts Pekko Management when {@code tether.management.enabled} or Cluster Bootstrap needs it,
   * and waits until it is bound: a management port that cannot be bound fails the start (in one
   * clear message) instead of leaving a node without metrics.
   */
  private static Optional<String> startManagement(ActorSystem<Void> system, Joining joining)
      throws Exception {
    Config config = system.settings().config();
    boolean bootstrap = joining == Joining.CONFIGURED
        && config.getStringList("pekko.cluster.seed-nodes").isEmpty();
    if (!bootstrap && !config.getBoolean("tether.management.enabled")) {
      return Optional.empty();
    }
    String url = PekkoManagement.get(system.classicSystem()).start().toCompletableFuture()
        .get(config.getDuration("tether.management.bind-timeout").toMillis(),
            TimeUnit.MILLISECONDS)
        .toString().replaceAll("/+$", "");
    log.info("Pekko Management (cluster state, health, /metrics) listening on {}", url);
    return Optional.of(url);
  }

  private static void join(ActorSystem<Void> system, Joining joining) {
    Cluster cluster = Cluster.get(system);
    if (joining == Joining.SELF) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      return;
    }
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      ClusterBootstrap.get(system.classicSystem()).start();
    }
  }

  /** Whether {@code e} comes from a port that could not be bound. */
  static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** The base URL of the management endpoint ({@code /metrics}), when it runs. */
  public Optional<String> managementUrl() {
    return managementUrl;
  }

  /** The base URL of this node's HTTP API, e.g. {@code http://127.0.0.1:8080}. */
  public String baseUrl() {
    return HttpServer.baseUrl(binding);
  }

  /** Leaves the cluster through coordinated shutdown and waits until the system is gone. */
  public void stop(Duration timeout) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
