package io.tether.runtime;

import com.typesafe.config.Config;
import io.tether.persistence.cassandra.LocalCassandra;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tether dev}: a local Cassandra in its own JVM under {@code $TETHER_HOME/cassandra}, then
 * one node that joins itself, with the dev profile (schema created on start, auth off). With
 * {@code TETHER_CASSANDRA_CONTACT_POINTS} set, the node uses that Cassandra instead (the user's:
 * nothing is started, drained or stopped for it) and no Cassandra port is derived.
 *
 * <p>Ports are derived from {@code TETHER_HTTP_PORT} and checked before anything starts
 * ({@link DevPorts}): with offset {@code o = port - 8080}, CQL on {@code 9042 + o}, Cassandra's
 * internode port on {@code 17000 + o}, Pekko Management ({@code /metrics}) on {@code 8558 + o},
 * each replaced by a free port if taken; a taken port the user named stops the start with one
 * line. SIGTERM leaves the cluster, then drains and stops Cassandra.
 */
final class DevMode {
  /** The pid of the dev node using this home, so a restart can tell a crashed node's leftovers. */
  private static final String NODE_PID_FILE = "node.pid";

  private DevMode() {}

  static void run(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    Path home = Path.of(env.getOrDefault("TETHER_HOME", ".tether")).toAbsolutePath();
    Map<String, Object> overrides = new HashMap<>();
    String host = ConfigLoader.load("dev.conf", overrides).getString("tether.http.interface");
    String external = env.getOrDefault("TETHER_CASSANDRA_CONTACT_POINTS", "").trim();
    DevPorts ports = DevPorts.choose(host, env, external.isEmpty());

    overrides.put("tether.http.port", ports.http());
    overrides.put("pekko.remote.artery.canonical.port", 0);
    overrides.put("pekko.management.http.port", ports.management());
    if (!external.isEmpty()) {
      runOnUsersCassandra(ConfigLoader.load("dev.conf", overrides), external, ports);
      return;
    }
    overrides.put("tether.cassandra.local.home", home.resolve("cassandra").toString());
    overrides.put("tether.cassandra.local.native-port", ports.cql());
    overrides.put("tether.cassandra.local.storage-port", ports.storage());
    Config config = ConfigLoader.load("dev.conf", overrides);

    long began = System.nanoTime();
    awaitOrphanedCassandra(home, config.getDuration("tether.cassandra.local.stop-timeout"));
    LocalCassandra cassandra = LocalCassandra.start(config);
    Files.writeString(home.resolve(NODE_PID_FILE), Long.toString(ProcessHandle.current().pid()));
    long cassandraReady = System.nanoTime();
    overrides.put("datastax-java-driver.basic.contact-points", List.of(cassandra.contactPoint()));
    config = ConfigLoader.load("dev.conf", overrides);

    TetherNode node;
    try {
      node = TetherNode.start(config, TetherNode.Joining.SELF, true);
    } catch (RuntimeException e) {
      cassandra.close();
      throw e;
    }
    long nodeReady = System.nanoTime();
    // Both JVM shutdown hooks (Pekko's coordinated shutdown and the launcher's) run at once on
    // SIGTERM: Cassandra must outlive the node's leaving, which may still write.
    cassandra.keepRunningUntil(node.system().getWhenTerminated());

    banner(node, config, ports, String.format("%s  (pid %d, data in %s; internode port %d)",
            cassandra.contactPoint(), cassandra.pid(), home.resolve("cassandra"), ports.storage()),
        String.format("Cassandra %.1f s, node %.1f s", (cassandraReady - began) / 1e9,
            (nodeReady - cassandraReady) / 1e9),
        "the node leaves, then Cassandra drains and stops");
    node.system().getWhenTerminated().toCompletableFuture().get();
  }

  /** One node on the Cassandra at {@code contactPoints}, which it neither starts nor stops. */
  private static void runOnUsersCassandra(Config config, String contactPoints, DevPorts ports)
      throws Exception {
    long began = System.nanoTime();
    TetherNode node = TetherNode.start(config, TetherNode.Joining.SELF, true);
    banner(node, config, ports, contactPoints
            + "  (TETHER_CASSANDRA_CONTACT_POINTS: yours; tether dev neither starts nor stops it)",
        String.format("node %.1f s", (System.nanoTime() - began) / 1e9), "the node leaves");
    node.system().getWhenTerminated().toCompletableFuture().get();
  }

  private static void banner(TetherNode node, Config config, DevPorts ports, String cassandra,
      String startedIn, String onStop) {
    boolean authOn = config.getBoolean("tether.auth.enabled");
    System.out.printf("""

        Tether dev node is up.
          HTTP API      %s  (Durable Streams under /v1/stream/, health at /health and /ready)
          management    %s  (/metrics, cluster state; keep it off public networks)
          Cassandra     %s
          auth          %s
          started in    %s
        %sStop with Ctrl-C (%s).

        """,
        node.baseUrl(), node.managementUrl().orElse("off (tether.management.enabled = off)"),
        cassandra,
        authOn ? "on" : "OFF (dev mode: every client may read, write and control every session)",
        startedIn,
        ports.notes().stream().map(n -> "  note: " + n + "\n").reduce("", String::concat),
        onStop);
  }

  /**
   * If the previous dev node on this home was killed (SIGKILL, OOM), its Cassandra notices the
   * closed pipe and drains and exits by itself; that takes a few seconds. Wait for it rather than
   * failing because "a Cassandra is already running". A Cassandra whose launcher is still alive
   * belongs to another running instance and is left alone (start then fails with a clear message).
   */
  private static void awaitOrphanedCassandra(Path home, Duration timeout) throws Exception {
    Optional<ProcessHandle> cassandra = aliveProcessIn(home.resolve("cassandra").resolve("cassandra.pid"));
    if (cassandra.isEmpty() || aliveProcessIn(home.resolve(NODE_PID_FILE)).isPresent()) {
      return;
    }
    System.out.printf("tether: the previous Cassandra (pid %d) outlived its node and is stopping; waiting%n",
        cassandra.get().pid());
    cassandra.get().onExit().get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
  }

  private static Optional<ProcessHandle> aliveProcessIn(Path pidFile) throws Exception {
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    try {
      return ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim()))
          .filter(ProcessHandle::isAlive)
          .filter(p -> p.pid() != ProcessHandle.current().pid());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
