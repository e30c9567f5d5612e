package io.tether.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LocalCassandraTest {

  private static LocalCassandraSettings settingsIn(String folder) throws IOException {
    int[] ports = freePorts();
    Path home = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"), folder);
    return LocalCassandraSettings.fromConfig(ConfigFactory.load())
        .withHome(home)
        .withPorts(ports[0], ports[1], 0)
        .withCleanStart(true);
  }

  @Test
  void startsFreshAnswersCqlStopsCleanlyRestartsWithItsDataAndIsReusedOnlyWhenAllowed() throws Exception {
    LocalCassandraSettings settings = settingsIn("local-cassandra-lifecycle");

    LocalCassandra cold = LocalCassandra.start(settings);
    long coldPid = cold.pid();
    assertTrue(cold.owned());
    assertEquals("5.0.9", cold.releaseVersion());
    assertEquals("5.0.9", LocalCassandra.queryReleaseVersion(settings.host(), settings.nativePort(), Duration.ofSeconds(10)));
    assertTrue(Files.isRegularFile(settings.home().resolve(LocalCassandra.PID_FILE)));
    long coldRssKb = rssKb(coldPid);
    if ("root".equals(System.getProperty("user.name")) && !settings.lockMemory()) {
      assertTrue(Files.readString(cold.systemLog()).contains("Unable to lock JVM memory"),
          "as root without lock-memory, Cassandra must run without CAP_IPC_LOCK");
    }

    LocalCassandra.StopResult coldStop = cold.stop();
    assertTrue(coldStop.wasRunning());
    assertFalse(coldStop.forced(), "Cassandra needed SIGKILL");
    assertFalse(ProcessHandle.of(coldPid).map(ProcessHandle::isAlive).orElse(false));
    assertFalse(Files.exists(settings.home().resolve(LocalCassandra.PID_FILE)));
    assertPortFree(settings.nativePort());
    assertPortFree(settings.storagePort());
    assertEquals(coldStop, cold.stop(), "stop is idempotent");

    LocalCassandra warm = LocalCassandra.start(settings.withCleanStart(false));
    try {
      assertEquals("5.0.9", warm.releaseVersion());
      // SIGTERM drained: the restart finds nothing to replay from the commit log.
      String log = Files.readString(warm.systemLog());
      String restartLog = log.substring(log.lastIndexOf("Node configuration:"));
      assertTrue(restartLog.contains("No commitlog files found") || restartLog.contains(" 0 replayed mutations"),
          "commit log had mutations to replay after a clean stop");

      // A running instance is reused only when allowed, and a reuser never stops it. (The test
      // command's lanes share one Cassandra started outside this JVM, so this uses its own.)
      LocalCassandraSettings sameHome = settings.withCleanStart(false);
      LocalCassandraException refused = assertThrows(LocalCassandraException.class,
          () -> LocalCassandra.start(sameHome.withReuseRunning(false)));
      assertTrue(refused.getMessage().contains("already running"), refused.getMessage());
      LocalCassandra reused = LocalCassandra.start(sameHome.withReuseRunning(true));
      assertFalse(reused.owned());
      assertEquals(warm.pid(), reused.pid());
      assertEquals("5.0.9", reused.releaseVersion());
      reused.stop();
      assertTrue(warm.isRunning(), "stopping a reused instance must leave it running");
    } finally {
      LocalCassandra.StopResult warmStop = warm.stop();
      assertFalse(warmStop.forced());
      System.out.printf("MEASURE cold_start_ms=%d warm_start_ms=%d rss_after_start_kb=%d cold_stop_ms=%d warm_stop_ms=%d%n",
          cold.startupTime().toMillis(), warm.startupTime().toMillis(), coldRssKb,
          coldStop.took().toMillis(), warmStop.took().toMillis());
    }
    assertPortFree(settings.nativePort());
  }

  @Test
  void failsFastNamingTheNativePortWhenItIsTaken() throws Exception {
    LocalCassandraSettings settings = settingsIn("local-cassandra-port-taken");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName(settings.host()), settings.nativePort()));

      long began = System.nanoTime();
      PortInUseException e = assertThrows(PortInUseException.class, () -> LocalCassandra.start(settings));

      assertEquals(settings.nativePort(), e.port());
      assertTrue(e.getMessage().contains("port " + settings.nativePort()), e.getMessage());
      assertTrue(e.getMessage().contains("native-port"), e.getMessage());
      assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(2), "did not fail fast");
      assertFalse(Files.exists(settings.home().resolve(LocalCassandra.PID_FILE)), "launched anyway");
    }
  }

  @Test
  void failsWithTheLogTailWhenCassandraDiesDuringStartup() throws Exception {
    // An option the JVM rejects makes the process exit at once, the cheapest way to die on startup.
    LocalCassandraSettings base = settingsIn("local-cassandra-dies");
    LocalCassandraSettings broken = new LocalCassandraSettings(base.home(), base.libDir(), base.javaHome(),
        base.host(), base.nativePort(), base.storagePort(), 0, base.clusterName(), base.heapInitialBytes(),
        base.heapMaxBytes(), base.lockMemory(), base.startTimeout(), base.stopTimeout(), base.shutdownHookGrace(), base.commitlogSync(),
        base.commitlogSyncGroupWindow(), base.commitlogSyncPeriod(), true, false, List.of("-XX:+NoSuchOption"));

    LocalCassandraException e = assertThrows(LocalCassandraException.class, () -> LocalCassandra.start(broken));

    assertTrue(e.getMessage().contains("exited with code"), e.getMessage());
    assertTrue(e.getMessage().contains("NoSuchOption"), e.getMessage());
  }

  @Test
  void readsTheJavaMajorVersionFromTheReleaseFile() {
    assertEquals(17, LocalCassandra.javaMajorVersion("IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n"));
    assertEquals(25, LocalCassandra.javaMajorVersion("JAVA_VERSION=\"25.0.3\"\n"));
    assertEquals(-1, LocalCassandra.javaMajorVersion("nothing"));
  }

  private static void assertPortFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new AssertionError("port " + port + " is still bound", e);
    }
  }

  private static int[] freePorts() throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        ServerSocket socket = new ServerSocket();
        sockets.add(socket);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  private static long rssKb(long pid) throws Exception {
    Process ps = new ProcessBuilder("ps", "-o", "rss=", "-p", Long.toString(pid)).start();
    String out = new String(ps.getInputStream().readAllBytes()).trim();
    ps.waitFor();
    return out.isEmpty() ? -1 : Long.parseLong(out);
  }
}
