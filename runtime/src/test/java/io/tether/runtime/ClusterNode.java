package io.tether.runtime;

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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One {@code tether node} of a test cluster, as a separate OS process started from the packaged
 * jar with the {@code local1.conf} overlay and free ports, on the test's Cassandra keyspace.
 */
final class ClusterNode implements AutoCloseable {
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  final String host;
  final int httpPort;
  final int remotingPort;
  final int managementPort;
  private final List<String> launchPrefix;
  private final Path log;
  private Process process;

  /** A node on loopback with free ports. */
  ClusterNode(String name, Path dir) throws IOException {
    this(name, dir, "127.0.0.1", DevProcess.freePort(), DevProcess.freePort(), DevProcess.freePort(),
        List.of());
  }

  /**
   * A node on {@code host}, started through {@code launchPrefix} (e.g. {@code ip netns exec ns}
   * to run it in a network namespace of the test's own).
   */
  ClusterNode(String name, Path dir, String host, int httpPort, int remotingPort, int managementPort,
      List<String> launchPrefix) throws IOException {
    this.name = name;
    this.host = host;
    this.httpPort = httpPort;
    this.remotingPort = remotingPort;
    this.managementPort = managementPort;
    this.launchPrefix = List.copyOf(launchPrefix);
    Files.createDirectories(dir);
    this.log = dir.resolve(name + ".log");
  }

  String baseUrl() {
    return "http://" + host + ":" + httpPort;
  }

  String address() {
    return "pekko://tether@" + host + ":" + remotingPort;
  }

  /** Runs {@code tether <command>} with the cluster's environment and returns the process. */
  static Process tether(List<String> command, Map<String, String> env, List<String> sysProps, Path log)
      throws IOException {
    return tether(List.of(), command, env, sysProps, log);
  }

  static Process tether(List<String> prefix, List<String> command, Map<String, String> env,
      List<String> sysProps, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of(java, "-Xms64m", "-Xmx512m", "-Dconfig.resource=local1.conf"));
    cmd.addAll(TestJvmOptions.node());
    cmd.addAll(sysProps);
    cmd.add("-jar");
    cmd.add(System.getProperty("tether.jar"));
    cmd.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(env);
    return builder.start();
  }

  ClusterNode start(Map<String, String> env) throws IOException {
    return start(env, List.of());
  }

  ClusterNode start(Map<String, String> env, List<String> extraSysProps) throws IOException {
    List<String> props = new ArrayList<>(extraSysProps);
    props.addAll(List.of(
        "-Dtether.http.interface=" + host,
        "-Dpekko.remote.artery.canonical.hostname=" + host,
        "-Dpekko.management.http.hostname=" + host,
        "-Dtether.http.port=" + httpPort,
        "-Dpekko.remote.artery.canonical.port=" + remotingPort,
        "-Dpekko.management.http.port=" + managementPort,
        "-Dtether.management.enabled=on"));
    process = tether(launchPrefix, List.of("node"), env, props, log);
    return this;
  }

  void awaitReady(Duration timeout) throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + tail());
      }
      try {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ready"))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notListeningYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new IllegalStateException(name + " not ready within " + timeout + ":\n" + tail());
  }

  /** The management API's view of this node's local shards of {@code entityType}, as JSON. */
  String localShards(String entityType) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(
            "http://" + host + ":" + managementPort + "/cluster/shards/" + entityType))
        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** How many members this node sees as Up. */
  long membersUp() throws Exception {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create(
            "http://" + host + ":" + managementPort + "/cluster/members"))
        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString()).body();
    return body.split("\"status\":\"Up\"", -1).length - 1L;
  }

  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM and wait: coordinated shutdown hands this node's shards over before it exits. */
  void leave(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(name + " did not leave within " + timeout);
    }
  }

  /** Whether the process exits by itself within {@code timeout}. */
  boolean exitsWithin(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The node's threads ({@code jcmd Thread.print}), written beside its log, for a node that did
   * not stop when it should have. Returned are the threads that can say what its shutdown waits
   * on: {@code main}, coordinated shutdown's, and any in Tether's own code.
   */
  String threadDump() {
    if (process == null || !process.isAlive()) {
      return "(not running)";
    }
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Path out = log.resolveSibling(name + "-threads.txt");
    try {
      Process dump = new ProcessBuilder(jcmd, Long.toString(process.pid()), "Thread.print")
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!dump.waitFor(30, TimeUnit.SECONDS)) {
        dump.destroyForcibly();
      }
      String telling = Arrays.stream(Files.readString(out).split("\n\n"))
          .filter(t -> t.startsWith("\"main\"") || t.contains("CoordinatedShutdown")
              || t.contains("io.tether."))
          .collect(Collectors.joining("\n\n"));
      return "(all threads in " + out + ")\n" + telling;
    } catch (IOException | InterruptedException e) {
      return "(no thread dump: " + e + ")";
    }
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() throws Exception {
    if (alive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
