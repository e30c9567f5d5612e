package io.tether.http.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.persistence.cassandra.LocalCassandra;
import io.tether.persistence.cassandra.LocalCassandraSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * A real Cassandra of a fault test's own (not the JVM-wide {@code TestCassandra}, which tests
 * never stop): on free loopback ports under {@code ${tether.test.work-dir}}, stopped and started
 * again by the test on the same home and ports, so the data survives the outage.
 */
final class OwnCassandra implements AutoCloseable {
  private final LocalCassandraSettings settings;
  private LocalCassandra running;
  /** Stopped or killed by the test, not started again yet. */
  private boolean down;

  private OwnCassandra(LocalCassandraSettings settings) {
    this.settings = settings;
  }

  /** Starts a clean instance. */
  static OwnCassandra start(String name) throws IOException {
    Path workDir = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"));
    LocalCassandraSettings base = LocalCassandraSettings.fromConfig(ConfigFactory.load())
        .withReuseRunning(false)
        .withHome(workDir.resolve(name + "-" + ProcessHandle.current().pid()));
    String libDir = System.getProperty("tether.cassandra.lib-dir", "");
    if (!libDir.isBlank()) {
      base = base.withLibDir(Path.of(libDir));
    }
    int[] ports = freePorts();
    OwnCassandra own = new OwnCassandra(base.withPorts(ports[0], ports[1], 0));
    own.running = LocalCassandra.start(own.settings.withCleanStart(true));
    return own;
  }

  /** Stops it (SIGTERM, Cassandra drains), as an outage. */
  void stop() {
    down = true;
    running.stop();
  }

  /**
   * Kills it with SIGKILL, as a crash: no drain, no memtable flush, no commit-log close. What
   * it acknowledged must come back from the commit log on the next start.
   */
  void kill() throws Exception {
    down = true;
    ProcessHandle process = ProcessHandle.of(running.pid()).orElseThrow();
    process.destroyForcibly();
    process.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    running.stop(); // the process is gone: this only releases the launcher's lock on the home
    running = null;
  }

  /** Starts it again on the same home and ports, keeping the data. */
  void restart() {
    running = LocalCassandra.start(settings.withCleanStart(false));
    down = false;
  }

  /** Starts it again if a test stopped or killed it and failed before starting it again. */
  void ensureRunning() {
    if (down) {
      restart();
    }
  }

  String contactPoint() {
    return settings.contactPoint();
  }

  /**
   * The persistence overlay for a node on this Cassandra, in keyspace {@code keyspace}: short
   * driver timeouts and reconnection delays, so an outage shows within the ask timeout and the
   * recovery within seconds of Cassandra answering again.
   */
  Config overlay(String keyspace) {
    return ConfigFactory.parseString("""
        pekko.persistence {
          journal.plugin = "pekko.persistence.cassandra.journal"
          snapshot-store.plugin = "pekko.persistence.cassandra.snapshot"
          cassandra {
            journal { keyspace = "%1$s", keyspace-autocreate = on, tables-autocreate = on }
            snapshot { keyspace = "%1$s", keyspace-autocreate = on, tables-autocreate = on }
            events-by-tag.enabled = off
          }
        }
        tether.persistence.allow-autocreate = on
        tether.session.read-journal-plugin-id = "pekko.persistence.cassandra.query"
        datastax-java-driver {
          basic.contact-points = ["%2$s"]
          basic.load-balancing-policy.local-datacenter = "%3$s"
          advanced.reconnect-on-init = on
          basic.request.timeout = 4s
          advanced.connection.init-query-timeout = 15s
          advanced.control-connection.timeout = 15s
          advanced.control-connection.schema-agreement.timeout = 30s
          advanced.reconnection-policy.base-delay = 500ms
          advanced.reconnection-policy.max-delay = 2s
        }
        """.formatted(keyspace, contactPoint(), LocalCassandra.DATACENTER));
  }

  /**
   * Kills it: its data is the test's alone and nothing reads it afterwards, so a drain (about
   * 4 s of flushing memtables on a loaded machine) would buy nothing.
   */
  @Override
  public void close() throws Exception {
    if (running != null && !down) {
      kill();
    }
  }

  private static int[] freePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(); ServerSocket b = new ServerSocket()) {
      a.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }
}
