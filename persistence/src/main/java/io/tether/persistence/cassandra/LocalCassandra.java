package io.tether.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.datastax.oss.driver.api.core.config.TypedDriverOption;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Cassandra 5.0 (cassandra-all from Maven Central) running in its own JVM
 * on loopback, for the dev run and the tests. Never used in production and never started inside
 * Tether's JVM.
 *
 * <p>Longer than the usual 600 lines, for a reason: a child process's whole life (its files,
 * start, readiness, adoption of an orphan, stop, and death with its parent) is one state machine
 * over one process handle and one home directory; most of the length is the measured reasons
 * behind each step, kept next to the step.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #start} returns only once a CQL session on {@code host:native-port} has answered
 *       {@code SELECT release_version FROM system.local}. It fails with a {@link
 *       LocalCassandraException} before launching anything if a configured port is taken (the
 *       message names it), the lib dir is not built or the Java home is not Java 17; and, after
 *       launching, if the process dies or is not ready within {@code start-timeout} (the process is
 *       then killed and the message ends with the last lines of its logs).
 *   <li>Everything it writes stays under {@code home}: generated {@code conf/cassandra.yaml} and
 *       {@code conf/logback.xml}, {@code data/}, {@code logs/}, {@code tmp/} (native libraries,
 *       JNA) and the pid file; {@code user.home} points there too.
 *   <li>If the pid file names a live Cassandra, {@link #start} fails with a {@link
 *       HomeInUseException}, unless {@code reuse-running} is on and that instance answers CQL: then
 *       it is returned as not {@link #owned()} and {@link #stop()} leaves it running. A launcher
 *       holds a lock on {@code home/launcher.lock} while it owns an instance, so two launchers
 *       racing on one home cannot both launch.
 *   <li>{@link #stop()} sends SIGTERM, on which Cassandra's own shutdown hook drains (flushes every
 *       memtable and closes the commit log, so the next start replays nothing), waits up to
 *       {@code stop-timeout} for the exit, then sends SIGKILL. It is idempotent.
 *   <li>The child never outlives this JVM: a shutdown hook stops it (after the stages given to
 *       {@link #keepRunningUntil}), and if this JVM
 *       dies without running hooks the child sees its stdin pipe close and exits by itself (see
 *       {@link ExitWithParent}).
 * </ul>
 *
 * <p><b>Commit-log sync and what "acknowledged" means.</b> The instance has one node and
 * replication factor 1, so the commit log of this node is the only copy of a write. The default is
 * {@code commitlog_sync: batch}: Cassandra acknowledges a write only after the commit-log segment
 * holding it has been fsynced, starting the sync as soon as writes arrive (those arriving
 * meanwhile share the next one); {@code group} waits up to a window first. So an event the journal acknowledged survives a process kill and an OS
 * crash or power loss, at a cost of up to one window of latency per write, which the entities
 * amortize by persisting batches. {@code periodic} (Cassandra's default) acknowledges before the
 * fsync and can lose up to one period of acknowledged writes on an OS crash; it is available for
 * benchmarks that want to measure without fsync. Measured on the 2-core dev VM (fsync ~11 ms, CPUs
 * saturated by other builds, 200-byte inserts): one sequential writer 10.3 ms per write with group,
 * 9.3 ms with batch, 5.0 ms with periodic; 50 concurrent writers 1,710/s with group, 1,070/s with
 * batch, 1,320/s with periodic. Group shares fsyncs best under concurrency, which is the journal's
 * normal case; Cassandra's warning that syncs "exceeded the configured commit interval" only says
 * that an fsync here takes about as long as the window. Production uses an external cluster with
 * replication factor 3 and LOCAL_QUORUM, where durability comes from replicas, not from this
 * setting.
 *
 * <p><b>Running as root.</b> Only Cassandra's {@code bin/cassandra} shell script refuses root
 * (without {@code -R}); {@code CassandraDaemon} itself has no such check, so the launcher works
 * the same for root and other users. As root, Cassandra's unconditional {@code mlockall} would make
 * everything mapped at startup resident (766 MB idle RSS measured); unless {@code lock-memory} is
 * on, the launcher therefore starts it through {@code setpriv} without CAP_IPC_LOCK (551 MB), and
 * Cassandra logs the same harmless "Unable to lock JVM memory" warning it logs for any other user.
 */
public final class LocalCassandra implements AutoCloseable {

  /** The datacenter of a single node with SimpleSnitch: the driver's local-datacenter must match. */
  public static final String DATACENTER = "datacenter1";

  static final String PID_FILE = "cassandra.pid";
  static final String LOCK_FILE = "launcher.lock";
  static final String DAEMON_CLASS = "org.apache.cassandra.service.CassandraDaemon";
  private static final int LOG_TAIL_LINES = 40;

  // The JPMS set of Cassandra 5.0's conf/jvm17-server.options (not shipped in the Maven jar). The
  // minimal set (sun.nio.ch, java.io, jdk.internal.ref, sun.rmi.registry) boots and serves CQL,
  // but the full set also covers code paths the trial did not exercise (UDFs, SAI, audit logging).
  private static final List<String> JPMS_OPTIONS = List.of(
      "-Djdk.attach.allowAttachSelf=true",
      "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
      "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
      "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
      "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
      "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
      "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
      "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
      "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.base/java.io=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/java.util=ALL-UNNAMED");

  private static final Logger log = LoggerFactory.getLogger(LocalCassandra.class);

  /** How a {@link #stop()} went. {@code exitCode} is -1 when unknown (not owned, or already gone). */
  public record StopResult(boolean wasRunning, boolean forced, int exitCode, Duration took) {}

  private final LocalCassandraSettings settings;
  private final Process process;
  private final ProcessHandle handle;
  private final Thread shutdownHook;
  private final List<CompletableFuture<?>> keepRunningUntil = new CopyOnWriteArrayList<>();
  private volatile String releaseVersion = "";
  private volatile Duration startupTime = Duration.ZERO;
  private StopResult stopResult;
  private FileLock homeLock;

  private LocalCassandra(LocalCassandraSettings settings, Process process, ProcessHandle handle) {
    this.settings = settings;
    this.process = process;
    this.handle = handle;
    if (process != null) {
      shutdownHook = new Thread(this::stopInShutdownHook, "tether-local-cassandra-stop");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      shutdownHook = null;
    }
  }

  /** Starts (or, if allowed, reuses) the instance configured under {@code tether.cassandra.local}. */
  public static LocalCassandra start(Config config) {
    return start(LocalCassandraSettings.fromConfig(config));
  }

  /**
   * {@link #start(LocalCassandraSettings)} on a native and a storage port from {@link FreePorts}
   * (and no JMX port), whatever {@code settings} name. Free ports are found by binding and
   * releasing them, so another process can take one before Cassandra binds it: that race, and
   * only that, gets up to two more attempts on other ports.
   */
  public static LocalCassandra startOnFreePorts(LocalCassandraSettings settings) {
    PortInUseException lastRace = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      List<Integer> ports = FreePorts.next(2);
      try {
        return start(settings.withPorts(ports.get(0), ports.get(1), 0));
      } catch (PortInUseException e) {
        lastRace = e;
      }
    }
    throw lastRace;
  }

  /**
   * Starts a Cassandra with these settings and returns once it answers CQL; see the class
   * documentation for the failure cases.
   */
  public static LocalCassandra start(LocalCassandraSettings settings) {
    requireLoopback(settings.host());
    Path home = settings.home();
    createDirectories(home);
    Path pidFile = home.resolve(PID_FILE);

    long began = System.nanoTime();
    // The lock closes the gap between reading the pid file and writing it: two launchers starting
    // on one home at the same moment would otherwise both launch into the same data directory.
    FileLock homeLock = tryLockHome(home);
    Optional<ProcessHandle> running = runningInstance(pidFile);
    if (homeLock == null && running.isEmpty()) {
      throw new HomeInUseException("Another launcher is starting a Cassandra on home " + home
          + " (it holds " + home.resolve(LOCK_FILE) + "); give each instance its own home.");
    }
    if (running.isPresent()) {
      release(homeLock);
      return reuse(settings, running.get(), began);
    }
    try {
      return launch(settings, homeLock);
    } catch (RuntimeException e) {
      release(homeLock);
      throw e;
    }
  }

  private static LocalCassandra launch(LocalCassandraSettings settings, FileLock homeLock) {
    Path home = settings.home();
    Path pidFile = home.resolve(PID_FILE);
    deleteIfExists(pidFile);

    Path java = requireJava(settings.javaHome());
    requireLibDir(settings.libDir());
    requirePortFree(settings.host(), settings.nativePort(), "native-port");
    requirePortFree(settings.host(), settings.storagePort(), "storage-port");
    if (settings.jmxPort() != 0) {
      requirePortFree(settings.host(), settings.jmxPort(), "jmx-port");
    }

    if (settings.cleanStart()) {
      deleteRecursively(home.resolve("data"));
    }
    for (String dir : List.of("conf", "data", "logs", "tmp", "triggers", "bootstrap")) {
      createDirectories(home.resolve(dir));
    }
    writeConfiguration(settings);
    copyExitWithParent(home.resolve("bootstrap"));

    ProcessBuilder builder = new ProcessBuilder(command(settings, java))
        .directory(home.toFile())
        .redirectErrorStream(true)
        .redirectOutput(home.resolve("logs/stdout.log").toFile())
        .redirectInput(ProcessBuilder.Redirect.PIPE);
    // The child's JVM options are exactly the launcher's: options inherited from the environment
    // (e.g. an agent meant for the test JVM) must not leak into Cassandra's JVM.
    Map<String, String> env = builder.environment();
    for (String variable : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH")) {
      env.remove(variable);
    }

    log.info("Starting Cassandra on {} (storage port {}, home {})",
        settings.contactPoint(), settings.storagePort(), home);
    long launched = System.nanoTime();
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new LocalCassandraException("Cannot launch " + java + ": " + e.getMessage(), e);
    }
    writeString(pidFile, Long.toString(process.pid()));
    LocalCassandra cassandra = new LocalCassandra(settings, process, process.toHandle());
    cassandra.homeLock = homeLock;
    try {
      cassandra.releaseVersion = awaitReady(settings, process, launched);
    } catch (RuntimeException e) {
      cassandra.stop();
      throw e;
    }
    cassandra.startupTime = Duration.ofNanos(System.nanoTime() - launched);
    log.info("Cassandra {} ready on {} after {} ms (pid {})", cassandra.releaseVersion,
        settings.contactPoint(), cassandra.startupTime.toMillis(), process.pid());
    return cassandra;
  }

  /** The settings it was started with. */
  public LocalCassandraSettings settings() {
    return settings;
  }

  /** {@code host:native-port}, for {@code datastax-java-driver.basic.contact-points}. */
  public String contactPoint() {
    return settings.contactPoint();
  }

  /** The CQL address, for a driver {@code CqlSession.builder().addContactPoint(...)}. */
  public InetSocketAddress contactAddress() {
    return new InetSocketAddress(settings.host(), settings.nativePort());
  }

  /** Process id of the Cassandra JVM. */
  public long pid() {
    return handle.pid();
  }

  /** False when an already running instance was reused; {@link #stop()} then leaves it running. */
  public boolean owned() {
    return process != null;
  }

  /** Cassandra's {@code release_version}, e.g. {@code 5.0.9}. */
  public String releaseVersion() {
    return releaseVersion;
  }

  /** From launching {@code java} to the first answered CQL query (zero when reused). */
  public Duration startupTime() {
    return startupTime;
  }

  /** Whether the Cassandra process is alive. */
  public boolean isRunning() {
    return handle.isAlive();
  }

  /** Cassandra's main log file. */
  public Path systemLog() {
    return settings.home().resolve("logs/system.log");
  }

  /**
   * Stops the instance if this launcher owns it: SIGTERM (Cassandra drains in its shutdown hook),
   * wait up to {@code stop-timeout}, then SIGKILL. Returns the result of the first call on every
   * later call.
   */
  public synchronized StopResult stop() {
    if (stopResult == null) {
      if (shutdownHook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
          // The hook is running or about to; stopping here as well is harmless.
        }
      }
      stopResult = terminate();
    }
    return stopResult;
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /**
   * Makes the JVM shutdown hook wait (up to {@code shutdown-hook-grace} in all) for {@code stage}
   * before it stops Cassandra. JVM shutdown hooks run concurrently, so without this an ActorSystem
   * terminating in Pekko's own hook (coordinated shutdown, a node leaving the cluster) could lose
   * its journal while it still writes. Typical use: {@code
   * cassandra.keepRunningUntil(system.getWhenTerminated())}. An explicit {@link #stop()} does not
   * wait: its caller decides the order.
   */
  public LocalCassandra keepRunningUntil(CompletionStage<?> stage) {
    keepRunningUntil.add(stage.toCompletableFuture());
    return this;
  }

  private void stopInShutdownHook() {
    if (!keepRunningUntil.isEmpty()) {
      try {
        CompletableFuture.allOf(keepRunningUntil.toArray(CompletableFuture[]::new))
            .get(settings.shutdownHookGrace().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        log.warn("Stopping Cassandra although its users did not finish within {}", settings.shutdownHookGrace());
      } catch (ExecutionException e) {
        // A user that failed is finished all the same.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (stopResult == null) {
        stopResult = terminate();
      }
    }
  }

  private StopResult terminate() {
    long began = System.nanoTime();
    if (process == null) {
      log.info("Leaving the reused Cassandra (pid {}) on {} running", handle.pid(), contactPoint());
      return new StopResult(handle.isAlive(), false, -1, Duration.ZERO);
    }
    if (!process.isAlive()) {
      deleteIfExists(settings.home().resolve(PID_FILE));
      release(homeLock);
      return new StopResult(false, false, process.exitValue(), Duration.ZERO);
    }
    log.info("Stopping Cassandra (pid {}) on {}", process.pid(), contactPoint());
    process.destroy();
    boolean forced = false;
    try {
      if (!process.waitFor(settings.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("Cassandra (pid {}) did not exit within {} after SIGTERM; killing it",
            process.pid(), settings.stopTimeout());
        forced = true;
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      forced = true;
    }
    closeQuietly(process.getOutputStream());
    deleteIfExists(settings.home().resolve(PID_FILE));
    release(homeLock);
    Duration took = Duration.ofNanos(System.nanoTime() - began);
    int exitCode = process.isAlive() ? -1 : process.exitValue();
    log.info("Cassandra (pid {}) stopped in {} ms, exit code {}{}", process.pid(), took.toMillis(),
        exitCode, forced ? " (killed)" : "");
    return new StopResult(true, forced, exitCode, took);
  }

  private static LocalCassandra reuse(LocalCassandraSettings settings, ProcessHandle running, long began) {
    Path pidFile = settings.home().resolve(PID_FILE);
    if (!settings.reuseRunning()) {
      throw new HomeInUseException("A Cassandra (pid " + running.pid() + ") is already running on home "
          + settings.home() + " (" + pidFile + "). Stop it, or set tether.cassandra.local.reuse-running = on"
          + " to use it.");
    }
    String version;
    try {
      version = queryReleaseVersion(settings.host(), settings.nativePort(), Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      throw new LocalCassandraException("The Cassandra (pid " + running.pid() + ") running on home "
          + settings.home() + " does not answer CQL on " + settings.contactPoint()
          + "; was it started with another native-port? " + e.getMessage(), e);
    }
    LocalCassandra cassandra = new LocalCassandra(settings, null, running);
    cassandra.releaseVersion = version;
    log.info("Reusing Cassandra {} (pid {}) on {}, found ready after {} ms", version, running.pid(),
        settings.contactPoint(), Duration.ofNanos(System.nanoTime() - began).toMillis());
    return cassandra;
  }

  /** The lock on {@code home/launcher.lock}, or null if another launcher (in any JVM) holds it. */
  private static FileLock tryLockHome(Path home) {
    FileChannel channel = null;
    try {
      channel = FileChannel.open(home.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
      }
      return lock;
    } catch (OverlappingFileLockException heldInThisJvm) {
      closeQuietly(channel);
      return null;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("Cannot lock " + home.resolve(LOCK_FILE), e);
    }
  }

  private static void release(FileLock lock) {
    if (lock != null) {
      closeQuietly(lock.channel());
    }
  }

  private static Optional<ProcessHandle> runningInstance(Path pidFile) {
    if (!Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    // A stale pid file may name a pid that the OS has since given to an unrelated process.
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(cl -> cl.contains(DAEMON_CLASS)).orElse(true));
  }

  private static String awaitReady(LocalCassandraSettings settings, Process process, long launched) {
    long deadline = launched + settings.startTimeout().toNanos();
    RuntimeException lastFailure = null;
    while (true) {
      if (!process.isAlive()) {
        throw new LocalCassandraException("Cassandra exited with code " + process.exitValue()
            + " during startup." + logTails(settings.home()));
      }
      if (System.nanoTime() > deadline) {
        throw new LocalCassandraException("Cassandra did not answer CQL on " + settings.contactPoint()
            + " within " + settings.startTimeout().toSeconds() + " s"
            + (lastFailure == null ? "" : " (last attempt: " + lastFailure.getMessage() + ")")
            + "." + logTails(settings.home()));
      }
      // A bare TCP connect is cheap and says nothing to Cassandra; the driver is only tried once
      // the port is open, so the probe does not fill the logs with connection errors.
      if (portAccepts(settings.host(), settings.nativePort())) {
        try {
          return queryReleaseVersion(settings.host(), settings.nativePort(), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
          lastFailure = e;
        }
      }
      try {
        process.waitFor(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalCassandraException("Interrupted while waiting for Cassandra to start", e);
      }
    }
  }

  /**
   * Opens a CQL session on {@code host:port} (local datacenter {@value #DATACENTER}), runs {@code
   * SELECT release_version FROM system.local} and returns the version. The session ignores any
   * {@code datastax-java-driver} section of the application's config, so it can only reach this
   * address.
   */
  public static String queryReleaseVersion(String host, int port, Duration timeout) {
    OptionsMap options = OptionsMap.driverDefaults();
    options.put(TypedDriverOption.SESSION_NAME, "tether-local-cassandra-probe");
    options.put(TypedDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, DATACENTER);
    options.put(TypedDriverOption.CONNECTION_CONNECT_TIMEOUT, timeout);
    options.put(TypedDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, timeout);
    options.put(TypedDriverOption.CONTROL_CONNECTION_TIMEOUT, timeout);
    options.put(TypedDriverOption.REQUEST_TIMEOUT, timeout);
    options.put(TypedDriverOption.RECONNECT_ON_INIT, false);
    options.put(TypedDriverOption.METADATA_SCHEMA_ENABLED, false);
    options.put(TypedDriverOption.METADATA_TOKEN_MAP_ENABLED, false);
    // The native clock loads jnr-ffi, which costs a second of startup for a one-query session.
    options.put(TypedDriverOption.TIMESTAMP_GENERATOR_FORCE_JAVA_CLOCK, true);
    // Netty's default 2 s quiet period would make every probe's close() take 2 s.
    options.put(TypedDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0);
    options.put(TypedDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0);
    try (CqlSession session = CqlSession.builder()
        .withConfigLoader(DriverConfigLoader.fromMap(options))
        .addContactPoint(new InetSocketAddress(host, port))
        .withLocalDatacenter(DATACENTER)
        .build()) {
      Row row = session.execute("SELECT release_version FROM system.local").one();
      if (row == null) {
        throw new IllegalStateException("system.local returned no row");
      }
      return row.getString("release_version");
    }
  }

  private static boolean portAccepts(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 250);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static void requirePortFree(String host, int port, String key) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new PortInUseException(port, "Cannot start Cassandra: port " + port + " on " + host
          + " (tether.cassandra.local." + key + ") is already in use (" + e.getMessage()
          + "). Choose a free port.", e);
    }
  }

  private static void requireLoopback(String host) {
    try {
      if (!InetAddress.getByName(host).isLoopbackAddress()) {
        throw new LocalCassandraException("tether.cassandra.local.host must be a loopback address, was "
            + host + ": the local Cassandra has no authentication");
      }
    } catch (UnknownHostException e) {
      throw new LocalCassandraException("Unknown tether.cassandra.local.host " + host, e);
    }
  }

  private static Path requireJava(Path javaHome) {
    Path java = javaHome.resolve("bin/java");
    if (!Files.isExecutable(java)) {
      throw new LocalCassandraException("No java executable at " + java
          + "; set tether.cassandra.local.java-home to a Java 17 installation");
    }
    Path release = javaHome.resolve("release");
    if (Files.isRegularFile(release)) {
      int major = javaMajorVersion(readString(release));
      if (major != 17 && major > 0) {
        throw new LocalCassandraException("Cassandra 5.0 runs on Java 17, but " + javaHome + " is Java "
            + major + " (Java 24 and later removed the SecurityManager Cassandra installs). Set "
            + "tether.cassandra.local.java-home (or TETHER_CASSANDRA_JAVA_HOME) to a Java 17 home.");
      }
    }
    return java;
  }

  static int javaMajorVersion(String releaseFile) {
    for (String line : releaseFile.split("\n")) {
      if (line.startsWith("JAVA_VERSION=")) {
        String version = line.substring("JAVA_VERSION=".length()).replace("\"", "").trim();
        String first = version.split("[.+-]")[0];
        try {
          int major = Integer.parseInt(first);
          return major == 1 ? Integer.parseInt(version.split("\\.")[1]) : major;
        } catch (RuntimeException e) {
          return -1;
        }
      }
    }
    return -1;
  }

  private static void requireLibDir(Path libDir) {
    boolean found = false;
    if (Files.isDirectory(libDir)) {
      try (DirectoryStream<Path> jars = Files.newDirectoryStream(libDir, "cassandra-all-*.jar")) {
        found = jars.iterator().hasNext();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (!found) {
      throw new LocalCassandraException("No cassandra-all jar in " + libDir + " (tether.cassandra.local.lib-dir)."
          + " Build it with: mvn -pl persistence/cassandra-server install");
    }
  }

  private static List<String> command(LocalCassandraSettings s, Path java) {
    Path home = s.home();
    List<String> command = new ArrayList<>(withoutMemoryLocking(s));
    command.add(java.toString());
    command.add("-Xms" + s.heapInitialBytes() / (1024 * 1024) + "m");
    command.add("-Xmx" + s.heapMaxBytes() / (1024 * 1024) + "m");
    command.addAll(List.of(
        "-XX:+UseG1GC",
        "-XX:+ParallelRefProcEnabled",
        "-XX:+ExitOnOutOfMemoryError",
        // No hsperfdata file in /tmp: nothing of this instance lives outside its home.
        "-XX:+PerfDisableSharedMem",
        "-Djava.net.preferIPv4Stack=true"));
    command.addAll(JPMS_OPTIONS);
    command.addAll(List.of(
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dio.netty.allocator.useCacheForAllThreads=true",
        "-Dio.netty.allocator.maxOrder=11",
        "-Djava.io.tmpdir=" + home.resolve("tmp"),
        "-Djna.tmpdir=" + home.resolve("tmp"),
        "-Duser.home=" + home,
        "-Dcassandra.config=" + home.resolve("conf/cassandra.yaml").toUri(),
        "-Dlogback.configurationFile=" + home.resolve("conf/logback.xml"),
        "-Dcassandra.logdir=" + home.resolve("logs"),
        "-Dcassandra.storagedir=" + home.resolve("data"),
        "-Dcassandra.triggers_dir=" + home.resolve("triggers"),
        // Keeps stdout/stderr open, so a fatal startup error lands in logs/stdout.log.
        "-Dcassandra-foreground=true",
        // A single node has nobody to gossip with; waiting for gossip to settle only costs time.
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        // On shutdown Cassandra tells its peers and then sleeps 2 s; a single node has no peers.
        "-Dcassandra.shutdown_announce_in_ms=0"));
    if (s.jmxPort() != 0) {
      command.add("-Dcassandra.jmx.local.port=" + s.jmxPort());
    }
    command.addAll(s.extraJvmOptions());
    command.add("-cp");
    command.add(home.resolve("bootstrap") + File.pathSeparator + s.libDir().resolve("*"));
    command.add(ExitWithParent.class.getName());
    command.add(DAEMON_CLASS);
    return command;
  }

  /**
   * Cassandra always calls mlockall. As root (CAP_IPC_LOCK) that succeeds and makes everything
   * mapped at that moment resident: measured 766 MB idle RSS against 551 MB without the capability.
   * A dev or test instance gains nothing from locked memory, so unless lock-memory is on, Cassandra
   * is started through setpriv without CAP_IPC_LOCK; mlockall then fails with a warning, as it does
   * for any non-root user.
   */
  private static List<String> withoutMemoryLocking(LocalCassandraSettings s) {
    if (s.lockMemory() || !runningAsRootOnLinux()) {
      return List.of();
    }
    Optional<Path> setpriv = Stream.of("/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv")
        .map(Path::of)
        .filter(Files::isExecutable)
        .findFirst();
    if (setpriv.isEmpty()) {
      log.info("setpriv not found: Cassandra runs as root with CAP_IPC_LOCK and locks its memory");
      return List.of();
    }
    return List.of(setpriv.get().toString(), "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock");
  }

  private static boolean runningAsRootOnLinux() {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return false;
    }
    try (Stream<String> lines = Files.lines(status)) {
      // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
      return lines.filter(line -> line.startsWith("Uid:"))
          .map(line -> line.substring(4).trim().split("\\s+"))
          .anyMatch(ids -> ids.length > 1 && ids[1].equals("0"));
    } catch (IOException e) {
      return false;
    }
  }

  private static void writeConfiguration(LocalCassandraSettings s) {
    Path data = s.home().resolve("data");
    String sync = switch (s.commitlogSync()) {
      case PERIODIC -> "commitlog_sync: periodic\ncommitlog_sync_period: " + s.commitlogSyncPeriod().toMillis() + "ms\n";
      case GROUP -> "commitlog_sync: group\ncommitlog_sync_group_window: " + s.commitlogSyncGroupWindow().toMillis() + "ms\n";
      case BATCH -> "commitlog_sync: batch\n";
    };
    String yaml = """
        # Generated by io.tether.persistence.cassandra.LocalCassandra on every start; edits are lost.
        # A single node on loopback for the dev run and the tests (see tether.cassandra.local in
        # tether-persistence's reference.conf). Everything not set here keeps Cassandra 5.0's default.
        cluster_name: %s
        # One token at 0: with vnodes and token allocation a lone node waits 30 s for schema agreement.
        num_tokens: 1
        initial_token: 0
        partitioner: org.apache.cassandra.dht.Murmur3Partitioner
        endpoint_snitch: SimpleSnitch
        seed_provider:
          - class_name: org.apache.cassandra.locator.SimpleSeedProvider
            parameters:
              - seeds: "%s:%d"
        listen_address: %s
        rpc_address: %s
        storage_port: %d
        native_transport_port: %d
        start_native_transport: true

        data_file_directories:
          - %s
        commitlog_directory: %s
        saved_caches_directory: %s
        hints_directory: %s
        cdc_raw_directory: %s
        # Not named "system": startup checks would take that folder name for a keyspace and warn.
        local_system_data_file_directory: %s

        # What an acknowledged write means on this single node: see tether.cassandra.local.commitlog-sync.
        %s
        # A journal write (one group commit of a stream: up to tether.session.max-buffered-bytes
        # plus one append of up to tether.streams.max-append-bytes) is one mutation, and a
        # mutation may take half a segment: 64 MiB segments allow 32 MiB.
        commitlog_segment_size: 64MiB
        authenticator: AllowAllAuthenticator
        authorizer: AllowAllAuthorizer
        """.formatted(
            quote(s.clusterName()), s.host(), s.storagePort(), s.host(), s.host(), s.storagePort(),
            s.nativePort(), quote(data.resolve("data")), quote(data.resolve("commitlog")),
            quote(data.resolve("saved_caches")), quote(data.resolve("hints")), quote(data.resolve("cdc_raw")),
            quote(data.resolve("local_system")), sync);
    writeString(s.home().resolve("conf/cassandra.yaml"), yaml);

    Path logs = s.home().resolve("logs");
    String logback = """
        <!-- Generated by io.tether.persistence.cassandra.LocalCassandra on every start; edits are lost. -->
        <configuration scan="false">
          <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
            <file>%s</file>
            <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
              <fileNamePattern>%s</fileNamePattern>
              <minIndex>1</minIndex>
              <maxIndex>3</maxIndex>
            </rollingPolicy>
            <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
              <maxFileSize>20MB</maxFileSize>
            </triggeringPolicy>
            <encoder><pattern>%%-5level [%%thread] %%date{ISO8601} %%F:%%L - %%msg%%n</pattern></encoder>
          </appender>
          <root level="INFO">
            <appender-ref ref="FILE" />
          </root>
        </configuration>
        """.formatted(logs.resolve("system.log"), logs.resolve("system.log.%i.zip"));
    writeString(s.home().resolve("conf/logback.xml"), logback);
  }

  private static String quote(Object value) {
    return "'" + value.toString().replace("'", "''") + "'";
  }

  private static void copyExitWithParent(Path bootstrap) {
    String resource = ExitWithParent.class.getName().replace('.', '/') + ".class";
    Path target = bootstrap.resolve(resource);
    createDirectories(target.getParent());
    try (InputStream in = LocalCassandra.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new LocalCassandraException("Cannot find " + resource + " on the classpath");
      }
      Files.write(target, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of system.log and of the captured stdout/stderr, for error messages. */
  static String logTails(Path home) {
    StringBuilder out = new StringBuilder();
    for (Path file : List.of(home.resolve("logs/system.log"), home.resolve("logs/stdout.log"))) {
      List<String> lines = tail(file, LOG_TAIL_LINES);
      if (!lines.isEmpty()) {
        out.append("\n--- last ").append(lines.size()).append(" lines of ").append(file).append(" ---\n");
        lines.forEach(line -> out.append(line).append('\n'));
      }
    }
    return out.length() == 0 ? " (no log output in " + home.resolve("logs") + ")" : out.toString();
  }

  static List<String> tail(Path file, int lines) {
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      int size = (int) Math.min(length, 128 * 1024);
      byte[] bytes = new byte[size];
      raf.seek(length - size);
      raf.readFully(bytes);
      List<String> all = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\r?\n"));
      return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return List.of("(cannot read " + file + ": " + e.getMessage() + ")");
    }
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeString(Path file, String content) {
    try {
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteIfExists(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("Cannot delete {}: {}", file, e.toString());
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    }
  }

  private static void closeQuietly(Closeable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (IOException ignored) {
      // Closing a pipe to a dead child or a lock file cannot fail in a way worth reporting.
    }
  }
}
