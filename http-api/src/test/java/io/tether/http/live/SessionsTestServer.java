package io.tether.http.live;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionDirectory;
import io.tether.http.ProblemHandlers;
import io.tether.http.TestNodeConfig;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.CapabilityTokens;
import io.tether.http.auth.StreamAccess;
import io.tether.http.streams.DurableStreamsRoutes;
import io.tether.persistence.testkit.TestCassandra;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * A single-node Tether cluster on the real local Cassandra (a fresh keyspace), with
 * authentication on, serving the session WebSocket, the session REST API and the Durable
 * Streams routes on a free loopback port.
 */
final class SessionsTestServer implements AutoCloseable {
  static final String SECRET = "test-secret-test-secret-test-secret-0123456789";

  final ActorSystem<Void> system;
  final ServerBinding binding;
  final CapabilityTokens tokens = new CapabilityTokens(SECRET);

  private SessionsTestServer(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  int port() {
    return binding.localAddress().getPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  String wsUrl(String session) {
    return "ws://127.0.0.1:" + port() + "/v1/sessions/" + session + "/ws";
  }

  static SessionsTestServer start(String name, String overrides) throws Exception {
    Config config = ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseString("""
            tether.http.ask-timeout = 30s
            tether.auth.enabled = on
            tether.auth.token-secret = "%s"
            tether.sessions.agent-loss-grace = 2s
            tether.sessions.presence-timeout = 6s
            tether.sessions.presence-sweep-interval = 1s
            """.formatted(SECRET)))
        .withFallback(TestNodeConfig.base())
        .withFallback(TestCassandra.get().configFor(name))
        .withFallback(ConfigFactory.parseString(
            "tether.session.read-journal-plugin-id = \"pekko.persistence.cassandra.query\""))
        // The product's journal settings (breakers, driver) under the test's overlay.
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.parseResources("tether-http.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    SessionDirectory.init(system);
    warmUp(system);
    Authenticator auth = Authenticator.fromConfig(system);
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bind(ProblemHandlers.wrap(concat(
            new SessionSocketRoute(system, auth, io.tether.http.TestNodeConfig.streams(system)).route(),
            new SessionRoutes(system, auth, io.tether.http.TestNodeConfig.streams(system)).route(),
            StreamAccess.guard(auth, new DurableStreamsRoutes(system, io.tether.http.TestNodeConfig.streams(system)).route()))))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new SessionsTestServer(system, binding);
  }

  /**
   * Waits until both entity types answer (shard coordinators started, journal reachable): on a
   * loaded machine the first ask can take longer than a request's timeout.
   */
  private static void warmUp(ActorSystem<Void> system) throws Exception {
    ClusterSharding sharding = ClusterSharding.get(system);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      try {
        sharding.entityRefFor(Session.ENTITY_TYPE_KEY, "warm-up")
            .<Session.Described>ask(Session.Describe::new, Duration.ofSeconds(10))
            .toCompletableFuture().get();
        sharding.entityRefFor(SessionDirectory.ENTITY_TYPE_KEY, "warm-up")
            .<SessionDirectory.Listing>ask(SessionDirectory.Get::new, Duration.ofSeconds(10))
            .toCompletableFuture().get();
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  @Override
  public void close() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
