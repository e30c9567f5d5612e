package io.tether.persistence.cassandra;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Settings of a {@link LocalCassandra}, read from {@code tether.cassandra.local} (see
 * {@code reference.conf} of this module for what each key means).
 *
 * <p>Paths are absolute once built through {@link #fromConfig(Config)}; relative paths in the
 * config are resolved against the working directory. Ports are validated to be in 1..65535
 * ({@code jmxPort} may be 0 for "no JMX"), and the host must be a loopback address.
 */
public record LocalCassandraSettings(
    Path home,
    Path libDir,
    Path javaHome,
    String host,
    int nativePort,
    int storagePort,
    int jmxPort,
    String clusterName,
    long heapInitialBytes,
    long heapMaxBytes,
    boolean lockMemory,
    Duration startTimeout,
    Duration stopTimeout,
    Duration shutdownHookGrace,
    CommitlogSync commitlogSync,
    Duration commitlogSyncGroupWindow,
    Duration commitlogSyncPeriod,
    boolean cleanStart,
    boolean reuseRunning,
    List<String> extraJvmOptions) {

  /** The config section these settings are read from. */
  public static final String CONFIG_PATH = "tether.cassandra.local";

  /** Cassandra's commit-log sync modes; see {@code commitlog-sync} in reference.conf. */
  public enum CommitlogSync {
    PERIODIC,
    GROUP,
    BATCH;

    /** The value Cassandra expects in cassandra.yaml. */
    public String yamlValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public LocalCassandraSettings {
    home = home.toAbsolutePath().normalize();
    libDir = libDir.toAbsolutePath().normalize();
    javaHome = javaHome.toAbsolutePath().normalize();
    requirePort("native-port", nativePort);
    requirePort("storage-port", storagePort);
    if (jmxPort != 0) {
      requirePort("jmx-port", jmxPort);
    }
    if (nativePort == storagePort || (jmxPort != 0 && (jmxPort == nativePort || jmxPort == storagePort))) {
      throw new IllegalArgumentException(
          "native-port, storage-port and jmx-port must differ: " + nativePort + ", " + storagePort + ", " + jmxPort);
    }
    if (heapInitialBytes > heapMaxBytes) {
      throw new IllegalArgumentException("heap-initial must not exceed heap-max");
    }
    extraJvmOptions = List.copyOf(extraJvmOptions);
  }

  /** Reads {@code tether.cassandra.local} from a full config (e.g. {@code ConfigFactory.load()}). */
  public static LocalCassandraSettings fromConfig(Config config) {
    Config c = config.getConfig(CONFIG_PATH);
    String javaHome = c.getString("java-home");
    return new LocalCassandraSettings(
        Path.of(c.getString("home")),
        Path.of(c.getString("lib-dir")),
        javaHome.isBlank() ? Path.of(System.getProperty("java.home")) : Path.of(javaHome),
        c.getString("host"),
        c.getInt("native-port"),
        c.getInt("storage-port"),
        c.getInt("jmx-port"),
        c.getString("cluster-name"),
        c.getBytes("heap-initial"),
        c.getBytes("heap-max"),
        c.getBoolean("lock-memory"),
        c.getDuration("start-timeout"),
        c.getDuration("stop-timeout"),
        c.getDuration("shutdown-hook-grace"),
        CommitlogSync.valueOf(c.getString("commitlog-sync").toUpperCase(Locale.ROOT)),
        c.getDuration("commitlog-sync-group-window"),
        c.getDuration("commitlog-sync-period"),
        c.getBoolean("clean-start"),
        c.getBoolean("reuse-running"),
        c.getStringList("extra-jvm-options"));
  }

  /** The same settings with another home folder. */
  public LocalCassandraSettings withHome(Path newHome) {
    return new LocalCassandraSettings(newHome, libDir, javaHome, host, nativePort, storagePort, jmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, commitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, cleanStart, reuseRunning, extraJvmOptions);
  }

  /** The same settings with other ports ({@code newJmxPort} 0 disables JMX). */
  public LocalCassandraSettings withPorts(int newNativePort, int newStoragePort, int newJmxPort) {
    return new LocalCassandraSettings(home, libDir, javaHome, host, newNativePort, newStoragePort, newJmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, commitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, cleanStart, reuseRunning, extraJvmOptions);
  }

  /** The same settings with another lib dir. */
  public LocalCassandraSettings withLibDir(Path newLibDir) {
    return new LocalCassandraSettings(home, newLibDir, javaHome, host, nativePort, storagePort, jmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, commitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, cleanStart, reuseRunning, extraJvmOptions);
  }

  /** The same settings with {@code clean-start} set. */
  public LocalCassandraSettings withCleanStart(boolean newCleanStart) {
    return new LocalCassandraSettings(home, libDir, javaHome, host, nativePort, storagePort, jmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, commitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, newCleanStart, reuseRunning, extraJvmOptions);
  }

  /** The same settings with {@code reuse-running} set. */
  public LocalCassandraSettings withReuseRunning(boolean newReuseRunning) {
    return new LocalCassandraSettings(home, libDir, javaHome, host, nativePort, storagePort, jmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, commitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, cleanStart, newReuseRunning, extraJvmOptions);
  }

  /** The same settings with another commit-log sync mode. */
  public LocalCassandraSettings withCommitlogSync(CommitlogSync newCommitlogSync) {
    return new LocalCassandraSettings(home, libDir, javaHome, host, nativePort, storagePort, jmxPort,
        clusterName, heapInitialBytes, heapMaxBytes, lockMemory, startTimeout, stopTimeout, shutdownHookGrace, newCommitlogSync,
        commitlogSyncGroupWindow, commitlogSyncPeriod, cleanStart, reuseRunning, extraJvmOptions);
  }

  /** {@code host:nativePort}, the form of {@code datastax-java-driver.basic.contact-points}. */
  public String contactPoint() {
    return host + ":" + nativePort;
  }

  private static void requirePort(String name, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(name + " must be in 1..65535, was " + port);
    }
  }
}
