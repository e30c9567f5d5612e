package io.tether.runtime;

import io.tether.persistence.cassandra.FreePorts;
import io.tether.persistence.testkit.TestJvmOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code tether dev} node running as a separate OS process from the packaged jar, the way a
 * user runs it. Tests kill it with SIGKILL or stop it with SIGTERM and start it again on the same
 * home, so they see exactly what a user would after a crash.
 */
final class DevProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  private final Path home;
  private final int httpPort;
  private final int managementPort;
  private final Path log;
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final List<String> systemProperties = new ArrayList<>();
  private Process process;

  DevProcess(Path home, int httpPort) throws IOException {
    this.home = home;
    this.httpPort = httpPort;
    this.managementPort = freePort();
    this.log = home.resolve("node.log");
  }

  /** A port for a server started later (below the ephemeral range: see {@link FreePorts}). */
  static int freePort() {
    return FreePorts.next();
  }

  /**
   * An HTTP port for a dev node whose derived ports ({@link DevPorts}: CQL and Cassandra's
   * internode port, {@code port - 8080} above their defaults) are free and below the ephemeral
   * range too. A node started again on the same home binds them again; in the ephemeral range
   * the kernel can meanwhile hand one out as the local port of any outgoing connection (seen
   * with the suite's two lanes: a restarted Cassandra's internode port "in use by another
   * process").
   */
  static int freeHttpPort() {
    int ceiling = FreePorts.ephemeralLow();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = FreePorts.next();
      int offset = port - DevPorts.BASE_HTTP;
      int cql = DevPorts.BASE_CQL + offset;
      int storage = DevPorts.BASE_STORAGE + offset;
      if (cql < ceiling && storage < ceiling && FreePorts.bindable(cql) && FreePorts.bindable(storage)) {
        return port;
      }
    }
    throw new IllegalStateException("no HTTP port whose derived ports are free below " + ceiling);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** The Pekko Management endpoint ({@code /metrics}), on a port chosen for the test. */
  String managementUrl() {
    return "http://127.0.0.1:" + managementPort;
  }

  /** Adds a variable to the node's environment (applies from the next start). */
  DevProcess env(String name, String value) {
    environment.put(name, value);
    return this;
  }

  /** Adds a {@code -D} system property (a config override) to the node's JVM. */
  DevProcess systemProperty(String name, String value) {
    systemProperties.add("-D" + name + "=" + value);
    return this;
  }

  /** Everything the node printed (stdout and stderr), across starts. */
  Path log() {
    return log;
  }

  /** Starts the node and waits until {@code /ready} answers 200. */
  DevProcess start(Duration timeout) throws Exception {
    Files.createDirectories(home);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xms128m", "-Xmx768m",
        "-Dtether.cassandra.local.lib-dir=" + System.getProperty("tether.cassandra.lib-dir")));
    command.addAll(TestJvmOptions.node());
    command.addAll(systemProperties);
    command.addAll(List.of("-jar", System.getProperty("tether.jar"), "dev"));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("TETHER_HOME", home.toString());
    builder.environment().put("TETHER_HTTP_PORT", Integer.toString(httpPort));
    builder.environment().put("TETHER_MANAGEMENT_PORT", Integer.toString(managementPort));
    builder.environment().putAll(environment);
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    process = builder.start();
    awaitReady(timeout);
    return this;
  }

  private void awaitReady(Duration timeout) throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("tether dev exited with " + process.exitValue()
            + "; log tail:\n" + tail());
      }
      try {
        HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ready"))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException notYetListening) {
        // the node is still starting: poll again below
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new IllegalStateException("tether dev not ready within " + timeout + "; log tail:\n" + tail());
  }

  /** SIGKILL: the node gets no chance to flush, leave or stop its Cassandra. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: coordinated shutdown, then the local Cassandra is drained and stopped. */
  int stop(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      throw new IllegalStateException("tether dev did not stop within " + timeout);
    }
    return process.exitValue();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws Exception {
    if (isAlive()) {
      stop(Duration.ofSeconds(60));
    }
  }
}
