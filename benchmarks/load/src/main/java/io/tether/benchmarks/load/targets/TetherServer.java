package io.tether.benchmarks.load.targets;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Tether, started the way a developer starts it: {@code ./tether dev} in the repository root,
 * which builds the project when needed and starts its own local Cassandra. The HTTP port is a
 * free one whose derived Cassandra ports are free too, {@code TETHER_HOME} a fresh temporary
 * directory. Ready means {@code GET /ready} answers 200. Stopping sends SIGTERM (the node leaves,
 * Cassandra drains) and waits for the launcher and everything it started to exit.
 *
 * <p>The pid measured is the launcher's, which {@code exec}s the Tether JVM: Cassandra runs in
 * its own JVM and is not part of the memory figures.
 */
public final class TetherServer implements ManagedTarget {
  private final Path repo;
  private final Path log;
  private final Duration timeout;
  private final int port;
  private final Path home;
  private final Map<String, Object> info;
  private final Path profiles;
  private int launches;
  private Process process;
  private Target target;

  private TetherServer(Path repo, Path log, Duration timeout, int port, Path home, Path profiles) {
    this.profiles = profiles;
    this.repo = repo;
    this.log = log;
    this.timeout = timeout;
    this.port = port;
    this.home = home;
    this.info = info(repo, port, home);
  }

  /**
   * Starts {@code ./tether dev} and waits for readiness up to {@code timeout}. With a
   * {@code profiles} directory, the node's JVM records a JFR there (written when it stops).
   */
  public static TetherServer start(Path repo, Path logDir, Path profiles, Duration timeout)
      throws Exception {
    // DevMode derives CQL (9042 + o) and Cassandra storage (17000 + o) ports from o = port - 8080.
    int port = FreePorts.pick(8100, 9000, p -> new int[] {9042 + (p - 8080), 17000 + (p - 8080)});
    Path home = Files.createTempDirectory("tether-bench-home-");
    Path log = logDir.resolve("tether.log");
    Files.deleteIfExists(log);
    TetherServer server = new TetherServer(repo, log, timeout, port, home, profiles);
    server.launch();
    return server;
  }

  private void launch() throws Exception {
    ProcessBuilder builder = new ProcessBuilder("./tether", "dev")
        .directory(repo.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("TETHER_HTTP_PORT", Integer.toString(port));
    builder.environment().put("TETHER_HOME", home.toString());
    launches++;
    if (profiles != null) {
      String opts = System.getenv().getOrDefault("TETHER_JAVA_OPTS", "-Xms256m -Xmx1g");
      builder.environment().put("TETHER_JAVA_OPTS", opts + " -XX:StartFlightRecording=filename="
          + profiles.resolve("tether-" + launches + ".jfr") + ",settings=profile,dumponexit=true");
    }
    long began = System.nanoTime();
    process = builder.start();
    target = new Target("tether", URI.create("http://127.0.0.1:" + port),
        OptionalLong.of(process.pid()), info);
    try {
      awaitReady();
    } catch (Exception e) {
      close();
      throw e;
    }
    info.put("startSeconds", Math.round((System.nanoTime() - began) / 1e8) / 10.0);
    info.put("pid", process.pid());
  }

  private static Map<String, Object> info(Path repo, int port, Path home) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("server", "Tether ./tether dev (single node + local Cassandra in its own JVM)");
    info.put("source", Files.exists(repo.resolve(".git"))
        ? "working tree at " + git(repo, "describe", "--always", "--dirty")
        : "export of commit " + repo.getFileName().toString().replace("tether-bench-src-", ""));
    info.put("httpPort", port);
    info.put("home", home.toString());
    info.put("javaOpts", System.getenv().getOrDefault("TETHER_JAVA_OPTS",
        "launcher default (-Xms256m -Xmx1g)"));
    return info;
  }

  private static String git(Path repo, String... args) {
    try {
      List<String> command = new java.util.ArrayList<>(List.of("git", "-C", repo.toString()));
      command.addAll(List.of(args));
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (Exception e) {
      return "?";
    }
  }

  private void awaitReady() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest ready = HttpRequest.newBuilder(target.url().resolve("/ready"))
        .timeout(Duration.ofSeconds(5)).GET().build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("./tether dev exited with " + process.exitValue()
            + " before it was ready (see " + log + ")");
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // Not listening yet: the launcher may still be building or starting Cassandra.
      }
      Thread.sleep(2000);
    }
    throw new IllegalStateException("Tether was not ready within " + timeout + " (see " + log
        + ")");
  }

  @Override
  public Target target() {
    return target;
  }

  @Override
  public Path tetherRoot() {
    return repo;
  }

  @Override
  public Target restart() throws Exception {
    stop();
    launch();
    return target;
  }

  @Override
  public void close() {
    stop();
    DataDirs.delete(home);
  }

  private void stop() {
    List<ProcessHandle> started = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(150, TimeUnit.SECONDS)) {
        System.err.println("bench: Tether did not stop within 150 s of SIGTERM; killing it");
        process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      }
      for (ProcessHandle child : started) {
        if (child.isAlive()) {
          child.destroy();
          child.onExit().get(60, TimeUnit.SECONDS);
        }
      }
    } catch (Exception e) {
      started.forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
