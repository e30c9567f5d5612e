package io.tether.http.ops;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionDirectory;
import io.tether.http.HttpServer;
import io.tether.http.ProblemHandlers;
import io.tether.http.TestNodeConfig;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.StreamAccess;
import io.tether.http.health.HealthRoutes;
import io.tether.http.health.JournalProbe;
import io.tether.http.live.SessionSocketRoute;
import io.tether.http.streams.DurableStreamsRoutes;
import io.tether.persistence.cassandra.CassandraSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;

/**
 * A single-node Tether for the reliability tests: cluster joined to itself, the session entity,
 * and the operator-facing surface of a real node ({@code /health}, {@code /ready}, every
 * response counted, and {@code /metrics} on the Pekko Management port as on a node), the
 * session WebSocket, and the Durable Streams routes behind the token guard, bound on free
 * loopback ports like a real node ({@code HttpServer}). The persistence overlay decides the
 * journal.
 */
final class OpsTestServer implements AutoCloseable {
  static final String SECRET = "ops-secret-ops-secret-ops-secret-0123456789";

  final ActorSystem<Void> system;
  final ServerBinding binding;
  /** The management endpoint, e.g. {@code http://127.0.0.1:41234}. */
  final String managementUrl;
  private final HttpClient http = HttpClient.newHttpClient();

  private OpsTestServer(ActorSystem<Void> system, ServerBinding binding, String managementUrl) {
    this.system = system;
    this.binding = binding;
    this.managementUrl = managementUrl;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  String wsUrl(String session) {
    return "ws://127.0.0.1:" + binding.localAddress().getPort() + "/v1/sessions/" + session
        + "/ws";
  }

  String streamUrl(String id) {
    return baseUrl() + "/v1/stream/" + id;
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

  /** The overlay for the shared test Cassandra, in a fresh keyspace named after {@code name}. */
  static Config sharedCassandra(String name) {
    return io.tether.persistence.testkit.TestCassandra.get().configFor(name)
        .withFallback(ConfigFactory.parseString(
            "tether.session.read-journal-plugin-id = \"pekko.persistence.cassandra.query\""));
  }

  /** Starts a node; {@code overrides} come first, then {@code persistence}. */
  static OpsTestServer start(String name, String overrides, Config persistence) throws Exception {
    Config config = ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseString("""
            tether.http.ask-timeout = 5s
            tether.auth.enabled = off
            tether.auth.token-secret = "%s"
            pekko.management.http.hostname = "127.0.0.1"
            pekko.management.http.port = 0
            """.formatted(SECRET)))
        .withFallback(TestNodeConfig.base())
        .withFallback(persistence)
        // The product's journal settings (breakers, driver) under the test's overlay.
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.parseResources("tether-http.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    if (config.getString("pekko.persistence.journal.plugin")
        .startsWith(CassandraSchema.PLUGIN_PATH)) {
      // As a node does before it serves: the first request must not wait for the tables to be
      // created (nine schema statements, several seconds on a loaded machine, against the
      // request's 5 s ask timeout).
      CassandraSchema.migrate(system).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    SessionDirectory.init(system);
    Authenticator auth = Authenticator.fromConfig(system);
    MetricsRoutes metrics = new MetricsRoutes(system);
    ServerBinding binding = HttpServer.start(system,
        metrics.instrument(() -> ProblemHandlers.wrap(concat(
            new HealthRoutes(system, new JournalProbe(system)).route(),
            new SessionSocketRoute(system, auth, io.tether.http.TestNodeConfig.streams(system)).route(),
            StreamAccess.guard(auth, new DurableStreamsRoutes(system, io.tether.http.TestNodeConfig.streams(system)).route())))),
        "127.0.0.1", 0)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    String management = PekkoManagement.get(system.classicSystem()).start()
        .toCompletableFuture().get(30, TimeUnit.SECONDS).toString();
    return new OpsTestServer(system, binding, management.replaceAll("/+$", ""));
  }

  /** A request to this node. */
  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).GET());
  }

  /** The value of one sample line of the management port's {@code /metrics} (0 when absent). */
  double metric(String sample) throws Exception {
    String scrape = send(HttpRequest.newBuilder(URI.create(managementUrl + "/metrics")).GET())
        .body();
    for (String line : scrape.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    return 0;
  }

  @Override
  public void close() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
