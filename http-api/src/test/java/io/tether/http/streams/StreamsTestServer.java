package io.tether.http.streams;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session;
import io.tether.http.ProblemHandlers;
import io.tether.http.TestNodeConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;

/**
 * A single-node Tether cluster serving only the Durable Streams routes, for protocol tests: an
 * ActorSystem with cluster sharding joined to itself, the session entity, and the routes bound
 * on a free loopback port. The persistence overlay decides the journal: a real Cassandra
 * ({@code TestCassandra.configFor}) or the in-memory testkit ({@link #inMemory()}).
 */
final class StreamsTestServer implements AutoCloseable {
  final ActorSystem<Void> system;
  final ServerBinding binding;

  private StreamsTestServer(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  /** The base URL the suite talks to, {@code http://127.0.0.1:port}. */
  String baseUrl() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  /** The in-memory persistence overlay (testkit journal, snapshots and read journal). */
  static Config inMemory() {
    return ConfigFactory.parseString("""
        pekko.persistence.journal.plugin = "pekko.persistence.testkit.journal"
        pekko.persistence.snapshot-store.plugin = "pekko.persistence.testkit.snapshotstore.pluginid"
        tether.session.read-journal-plugin-id = "pekko.persistence.testkit.query"
        """)
        .withFallback(PersistenceTestKitPlugin.getInstance().config())
        .withFallback(PersistenceTestKitSnapshotPlugin.config());
  }

  /** Starts a node with the given persistence overlay and binds the routes on a free port. */
  static StreamsTestServer start(String name, Config persistence) throws Exception {
    Config config = ConfigFactory.parseString("""
        tether.http.ask-timeout = 20s
        tether.streams.sse-wait = 10s
        """)
        .withFallback(TestNodeConfig.base())
        .withFallback(persistence)
        // The product's journal settings (breakers, driver) under the test's overlay.
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0)
        .bind(ProblemHandlers.wrap(new DurableStreamsRoutes(system, io.tether.http.TestNodeConfig.streams(system)).route()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new StreamsTestServer(system, binding);
  }

  @Override
  public void close() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The overlay for a real Cassandra started by {@code TestCassandra} (a fresh keyspace). */
  static Config cassandra(String name) {
    return io.tether.persistence.testkit.TestCassandra.get().configFor(name)
        .withFallback(ConfigFactory.parseString(
            "tether.session.read-journal-plugin-id = \"pekko.persistence.cassandra.query\""));
  }

  /**
   * Runs a server until killed and prints its base URL, for manual protocol and load work:
   * in memory by default, on a real local Cassandra with the argument {@code cassandra}.
   */
  public static void main(String[] args) throws Exception {
    boolean onCassandra = args.length > 0 && args[0].equals("cassandra");
    StreamsTestServer server = start("streams-dev",
        onCassandra ? cassandra("streams_dev") : inMemory());
    System.out.println("DS_URL=" + server.baseUrl());
    Thread.sleep(Duration.ofDays(1).toMillis());
  }
}
