package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tether dev} from the packaged jar, as a user runs it, on an HTTP port another program
 * holds: it stops before starting Cassandra, with exit code 1 and one line that names the port,
 * and no stack trace.
 */
class DevPortsIT {

  @Test
  void aTakenHttpPortIsReportedInOneLine() throws Exception {
    Path home = Path.of(System.getProperty("tether.test.work-dir"), "dev-ports-" + System.nanoTime());
    Files.createDirectories(home);
    try (ServerSocket other = new ServerSocket()) {
      other.bind(new InetSocketAddress("127.0.0.1", 0));
      int port = other.getLocalPort();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m",
          "-Dtether.cassandra.local.lib-dir=" + System.getProperty("tether.cassandra.lib-dir"),
          "-jar", System.getProperty("tether.jar"), "dev")
          .redirectErrorStream(true)
          .redirectOutput(home.resolve("out.log").toFile());
      builder.environment().put("TETHER_HOME", home.toString());
      builder.environment().put("TETHER_HTTP_PORT", Integer.toString(port));
      Process process = builder.start();
      try {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "tether dev did not stop");
        List<String> lines = Files.readAllLines(home.resolve("out.log"), StandardCharsets.UTF_8)
            .stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, process.exitValue(), String.join("\n", lines));
        assertEquals(List.of("tether dev: port " + port + " on 127.0.0.1 (TETHER_HTTP_PORT) is "
            + "already in use: stop what holds it (ss -ltnp 'sport = :" + port + "') or set "
            + "TETHER_HTTP_PORT to a free port"), lines);
        assertFalse(Files.exists(home.resolve("cassandra").resolve("cassandra.pid")),
            "Cassandra was never started");
      } finally {
        // A start that did not stop (the defect) leaves nothing behind: SIGTERM drains its
        // Cassandra, which also exits with its parent.
        if (process.isAlive()) {
          process.destroy();
          if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
          }
        }
      }
    }
  }
}
