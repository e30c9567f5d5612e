package io.tether.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Process-level: {@link LocalCassandraMain} in its own JVM, as a script would run it. */
class LocalCassandraMainTest {

  @Test
  void cassandraExitsAndDrainsWhenItsLauncherIsKilledWithSigkill() throws Exception {
    Path home = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"), "local-cassandra-main");
    Process launcher = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m",
        "-cp", System.getProperty("java.class.path"),
        "-Dtether.cassandra.local.home=" + home,
        "-Dtether.cassandra.local.lib-dir=" + System.getProperty("tether.cassandra.lib-dir"),
        "-Dtether.cassandra.local.clean-start=on",
        LocalCassandraMain.class.getName(), "--free-ports")
        .redirectErrorStream(true)
        .start();
    try {
      Map<String, String> printed = readKeyValuesUntil(launcher, "STARTUP_MS", Duration.ofSeconds(120));
      // --free-ports (as the test command's lanes start it): ports it chose, named on stdout.
      String contactPoint = printed.get("CONTACT_POINT");
      assertTrue(contactPoint.startsWith("127.0.0.1:"), contactPoint);
      int nativePort = Integer.parseInt(contactPoint.substring("127.0.0.1:".length()));
      assertTrue(nativePort != 9042 && nativePort < FreePorts.ephemeralLow(), contactPoint);
      long cassandraPid = Long.parseLong(printed.get("PID"));
      ProcessHandle cassandra = ProcessHandle.of(cassandraPid).orElseThrow();
      assertEquals("5.0.9", LocalCassandra.queryReleaseVersion("127.0.0.1", nativePort, Duration.ofSeconds(10)));

      // SIGKILL: no shutdown hook runs in the launcher; only the closed stdin pipe tells Cassandra.
      launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

      cassandra.onExit().get(60, TimeUnit.SECONDS);
      String log = Files.readString(home.resolve("logs/system.log"));
      assertTrue(log.contains("Cassandra shutdown complete"), "Cassandra did not run its draining shutdown hook");
      assertTrue(Files.readString(home.resolve("logs/stdout.log")).contains("parent process gone"));
    } finally {
      launcher.destroyForcibly();
    }
  }

  private static Map<String, String> readKeyValuesUntil(Process process, String lastKey, Duration timeout)
      throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Map<String, String>> values = CompletableFuture.supplyAsync(() -> {
      Map<String, String> found = new HashMap<>();
      StringBuilder seen = new StringBuilder();
      try {
        String line;
        while ((line = out.readLine()) != null) {
          seen.append(line).append('\n');
          int eq = line.indexOf('=');
          if (eq > 0 && line.substring(0, eq).matches("[A-Z_]+")) {
            found.put(line.substring(0, eq), line.substring(eq + 1));
            if (line.startsWith(lastKey + "=")) {
              return found;
            }
          }
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      throw new IllegalStateException("launcher ended before printing " + lastKey + ":\n" + seen);
    });
    return values.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
