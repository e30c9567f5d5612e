package io.tether.persistence.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.persistence.cassandra.HomeInUseException;
import io.tether.persistence.cassandra.LocalCassandra;
import io.tether.persistence.cassandra.LocalCassandraSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real Cassandra per test JVM, shared by every test class of every module that depends on
 * tether-persistence's test-jar.
 *
 * <p>{@link #get()} starts it on first use: a fresh (clean) single-node Cassandra 5.0 on free
 * loopback ports, under {@code ${tether.test.work-dir}/cassandra} (surefire sets that property to
 * {@code target/test-work}; another JVM already using that folder makes this one take
 * {@code cassandra-<pid>}). It is stopped when the JVM exits, by {@link LocalCassandra}'s shutdown
 * hook; the tests never stop it themselves. Starting takes ~5-10 s once per JVM.
 *
 * <p>{@link #configFor(String)} returns a config overlay that points an ActorSystem's journal and
 * snapshot store at it, with a keyspace of its own on every call, so tests never see each other's
 * events even when they reuse persistence ids:
 *
 * <pre>{@code
 * Config config = TestCassandra.get().configFor("SessionRecoveryTest")
 *     .withFallback(ConfigFactory.load());
 * ActorTestKit testKit = ActorTestKit.create("SessionRecoveryTest", config);
 * }</pre>
 *
 * <p>With the system property {@code tether.test.cassandra.contact-point=host:port} no Cassandra
 * is started and the overlays point at that one instead (e.g. one instance for a whole reactor).
 *
 * <p>Maven, in the consuming module (version and scope of the test-jar come from the root pom's
 * dependencyManagement):
 *
 * <pre>{@code
 * <dependency>
 *   <groupId>io.tether</groupId>
 *   <artifactId>tether-persistence</artifactId>
 *   <type>test-jar</type>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 */
public final class TestCassandra {

  /** System property naming an external Cassandra ({@code host:port}) to use instead of starting one. */
  public static final String EXTERNAL_CONTACT_POINT_PROPERTY = "tether.test.cassandra.contact-point";

  private static final int MAX_KEYSPACE_LENGTH = 48;
  private static final AtomicInteger keyspaces = new AtomicInteger();
  private static TestCassandra instance;

  private final String contactPoint;
  private final Optional<LocalCassandra> server;

  private TestCassandra(String contactPoint, Optional<LocalCassandra> server) {
    this.contactPoint = contactPoint;
    this.server = server;
  }

  /** The JVM-wide instance, started on the first call (which blocks until Cassandra answers CQL). */
  public static synchronized TestCassandra get() {
    if (instance == null) {
      String external = System.getProperty(EXTERNAL_CONTACT_POINT_PROPERTY, "");
      instance = external.isBlank()
          ? startLocal()
          : new TestCassandra(external.trim(), Optional.empty());
    }
    return instance;
  }

  /** {@code host:port} of the CQL endpoint. */
  public String contactPoint() {
    return contactPoint;
  }

  /** The running server, empty when an external one is used. */
  public Optional<LocalCassandra> server() {
    return server;
  }

  /**
   * A config overlay (to be put in front of the application's config with {@code withFallback}):
   * journal and snapshot store on this Cassandra through {@code pekko.persistence.cassandra}, both
   * in a new keyspace named after {@code testName} ({@link #keyspaceFor}), created on first use
   * (autocreate is on, which only tests and the dev mode may do), the driver pointed at {@link
   * #contactPoint()} with local datacenter {@code datacenter1} and request/connection timeouts of
   * 15 s (instead of 2 s, for saturated build machines), and events-by-tag off.
   */
  public Config configFor(String testName) {
    String keyspace = keyspaceFor(testName);
    return ConfigFactory.parseString("""
        pekko.persistence {
          journal.plugin = "pekko.persistence.cassandra.journal"
          snapshot-store.plugin = "pekko.persistence.cassandra.snapshot"
          cassandra {
            journal {
              keyspace = "%1$s"
              keyspace-autocreate = on
              tables-autocreate = on
            }
            snapshot {
              keyspace = "%1$s"
              keyspace-autocreate = on
              tables-autocreate = on
            }
            events-by-tag.enabled = off
          }
        }
        tether.persistence.allow-autocreate = on
        datastax-java-driver {
          basic.contact-points = ["%2$s"]
          basic.load-balancing-policy.local-datacenter = "%3$s"
          advanced.reconnect-on-init = on
          # Test machines are often saturated by parallel builds: the driver's 2 s defaults turn
          # a slow CREATE TABLE (autocreate) or a slow first connection into a flaky failure.
          basic.request.timeout = 15s
          advanced.connection.init-query-timeout = 15s
          advanced.connection.set-keyspace-timeout = 15s
          advanced.control-connection.timeout = 15s
          advanced.control-connection.schema-agreement.timeout = 30s
        }
        """.formatted(keyspace, contactPoint, LocalCassandra.DATACENTER));
  }

  /**
   * A keyspace name that no other call in this JVM returns: {@code t_}, the test name lowercased
   * with every other character than a-z and 0-9 turned into {@code _} (cut to fit), a counter and a
   * random suffix; at most 48 characters, Cassandra's limit.
   */
  public static String keyspaceFor(String testName) {
    String sanitized = testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_|_$", "");
    String suffix = "_" + Integer.toString(keyspaces.incrementAndGet(), 36)
        + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);
    int room = MAX_KEYSPACE_LENGTH - "t_".length() - suffix.length();
    if (sanitized.length() > room) {
      sanitized = sanitized.substring(0, room);
    }
    return "t_" + sanitized + suffix;
  }

  private static TestCassandra startLocal() {
    Path workDir = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"));
    LocalCassandraSettings base = withBuiltLibDir(LocalCassandraSettings.fromConfig(ConfigFactory.load())
        .withCleanStart(true)
        .withReuseRunning(false));
    try {
      return startOnFreePorts(base.withHome(workDir.resolve("cassandra")));
    } catch (HomeInUseException e) {
      // Another test JVM of the same module (surefire forkCount > 1) owns the shared home.
      return startOnFreePorts(base.withHome(workDir.resolve("cassandra-" + ProcessHandle.current().pid())));
    }
  }

  private static TestCassandra startOnFreePorts(LocalCassandraSettings settings) {
    LocalCassandra server = LocalCassandra.startOnFreePorts(settings);
    return new TestCassandra(server.contactPoint(), Optional.of(server));
  }

  private static LocalCassandraSettings withBuiltLibDir(LocalCassandraSettings settings) {
    if (Files.isDirectory(settings.libDir())) {
      return settings;
    }
    // Outside surefire (e.g. an IDE) the lib dir property is missing: find the built classpath
    // from the project root if one is known.
    String root = System.getProperty("tether.project.root", "");
    if (!root.isBlank()) {
      Path candidate = Path.of(root, "persistence", "cassandra-server", "target", "lib");
      if (Files.isDirectory(candidate)) {
        return settings.withLibDir(candidate);
      }
    }
    return settings;
  }

  /** How long the first {@link #get()} took to get Cassandra answering CQL (zero if external). */
  public Duration startupTime() {
    return server.map(LocalCassandra::startupTime).orElse(Duration.ZERO);
  }
}
