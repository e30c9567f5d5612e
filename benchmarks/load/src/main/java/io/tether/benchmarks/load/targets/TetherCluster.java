package io.tether.benchmarks.load.targets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A three-node Tether cluster on this machine, for the failover scenario: started the way
 * {@code cluster-config/scripts/local-cluster.sh start} starts one (a local Cassandra through
 * {@code LocalCassandraMain}, {@code tether migrate}, then three {@code tether node} JVMs with the
 * {@code local1..3.conf} profiles and {@code -Xms128m -Xmx512m}, authentication on with fresh
 * secrets), with two differences:
 *
 * <ul>
 *   <li>every port is a free one picked at random: the script's fixed ports (HTTP 8081-8083,
 *       remoting 2551-2553, management 8558-8560, CQL 9142) belong to whoever else runs a
 *       cluster on this machine, so the profiles' ports are overridden with system properties
 *       and the seed list with {@code TETHER_SEED_NODES};
 *   <li>the nodes and Cassandra run from a copy of {@code runtime/target/tether.jar} with its
 *       {@code lib/} and of Cassandra's classpath, so a rebuild of the working tree while the
 *       scenario runs cannot change the classes under a running or restarting node.
 * </ul>
 *
 * <p>Cassandra keeps its stdin on a pipe from this JVM, so it stops by itself if the load
 * generator dies; a shutdown hook stops the nodes.
 */
public final class TetherCluster implements AutoCloseable {
  /** One node: its index (0-2), HTTP root, remoting and management ports. */
  public record Node(int index, URI url, int remotePort, int managementPort) {
    /** The name the profiles give it: local1..3. */
    public String name() {
      return "local" + (index + 1);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NODE_OPTS =
      System.getenv().getOrDefault("TETHER_NODE_OPTS", "-Xms128m -Xmx512m");

  private final Path state;
  private final Path jar;
  private final Path logs;
  private final List<Node> nodes;
  private final Process[] processes;
  private final int[] launches;
  private final Map<String, String> env;
  private final String adminSecret;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(3)).build();
  private final Thread hook = new Thread(this::close, "bench-stop-cluster");
  private Process cassandra;
  private boolean closed;

  private TetherCluster(Path state, Path jar, Path logs, List<Node> nodes,
      Map<String, String> env, String adminSecret) {
    this.state = state;
    this.jar = jar;
    this.logs = logs;
    this.nodes = List.copyOf(nodes);
    this.processes = new Process[nodes.size()];
    this.launches = new int[nodes.size()];
    this.env = env;
    this.adminSecret = adminSecret;
  }

  /**
   * Starts Cassandra, creates the schema and starts three nodes from the jar built in
   * {@code root}; returns once every node's {@code /ready} answers 200. Node and Cassandra
   * output goes to {@code logDir/failover-*.log}.
   */
  public static TetherCluster start(Path root, Path logDir, Duration timeout) throws Exception {
    Path builtJar = root.resolve("runtime/target/tether.jar");
    Path cassandraLib = root.resolve("persistence/cassandra-server/target/lib");
    if (!Files.isRegularFile(builtJar) || !Files.isDirectory(cassandraLib)) {
      throw new IllegalStateException("no built jar in " + root + " (runtime/target/tether.jar "
          + "and persistence/cassandra-server/target/lib; ./tether build makes them)");
    }
    Path state = Files.createTempDirectory("tether-bench-cluster-");
    copyTree(builtJar.getParent().resolve("lib"), state.resolve("app/lib"));
    Files.copy(builtJar, state.resolve("app/tether.jar"));
    copyTree(cassandraLib, state.resolve("cassandra-lib"));

    Set<Integer> taken = new HashSet<>();
    int cql = freePort(taken);
    int storage = freePort(taken);
    List<Node> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(new Node(i, URI.create("http://127.0.0.1:" + freePort(taken)), freePort(taken),
          freePort(taken)));
    }
    SecureRandom random = new SecureRandom();
    String tokenSecret = hex(random, 32);
    String adminSecret = hex(random, 24);
    Map<String, String> env = new java.util.HashMap<>();
    env.put("TETHER_CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + cql);
    env.put("TETHER_SEED_NODES", "pekko://tether@127.0.0.1:" + nodes.get(0).remotePort()
        + ",pekko://tether@127.0.0.1:" + nodes.get(1).remotePort());
    env.put("TETHER_AUTH_TOKEN_SECRET", tokenSecret);
    env.put("TETHER_AUTH_ADMIN_SECRET", adminSecret);
    TetherCluster cluster = new TetherCluster(state, state.resolve("app/tether.jar"), logDir,
        nodes, env, adminSecret);
    Runtime.getRuntime().addShutdownHook(cluster.hook);
    try {
      cluster.startCassandra(cql, storage, timeout);
      cluster.migrate(timeout);
      for (Node n : nodes) {
        cluster.launch(n.index());
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      for (Node n : nodes) {
        cluster.awaitReady(n.index(), deadline);
      }
      return cluster;
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
  }

  public List<Node> nodes() {
    return nodes;
  }

  /** The pid of node {@code i}'s JVM as last launched. */
  public long pid(int i) {
    return processes[i].pid();
  }

  public boolean alive(int i) {
    return processes[i] != null && processes[i].isAlive();
  }

  /** SIGKILL to node {@code i}: no leave, no hand-over, its sockets reset by the kernel. */
  public void kill(int i) throws InterruptedException {
    processes[i].destroyForcibly();
    processes[i].waitFor(10, TimeUnit.SECONDS);
  }

  /** Starts node {@code i} again on the same ports; returns once its {@code /ready} is 200. */
  public void restart(int i, Duration timeout) throws Exception {
    launch(i);
    awaitReady(i, System.nanoTime() + timeout.toNanos());
  }

  /** A capability token for every session operation, issued by node 1 with the operator secret. */
  public String issueToken(String subject, Duration ttl) throws Exception {
    String body = "{\"subject\":\"" + subject + "\",\"grants\":[{\"capabilities\":"
        + "[\"subscribe\",\"publish\",\"control\"],\"sessions\":[\"*\"]}],\"ttlSeconds\":"
        + ttl.toSeconds() + "}";
    for (Node n : nodes) {
      if (!alive(n.index())) {
        continue;
      }
      HttpRequest request = HttpRequest.newBuilder(n.url().resolve("/admin/tokens"))
          .timeout(Duration.ofSeconds(10))
          .header("Authorization", "Bearer " + adminSecret)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 == 2) {
        return JSON.readTree(response.body()).path("token").asText();
      }
      throw new IllegalStateException("POST /admin/tokens answered HTTP " + response.statusCode()
          + ": " + response.body());
    }
    throw new IllegalStateException("no node is alive");
  }

  /**
   * Which node holds the shard of session {@code id}, asked from outside through each node's
   * Pekko Management endpoint ({@code GET /cluster/shards/Session} lists the shards a node
   * hosts); the shard id is Pekko's default {@code |id.hashCode % number-of-shards|}. Empty when
   * no live node lists it (not allocated yet, or moving).
   */
  public OptionalInt hostOf(String id, int numberOfShards) {
    String shard = Integer.toString(Math.abs(id.hashCode() % numberOfShards));
    for (Node n : nodes) {
      if (!alive(n.index())) {
        continue;
      }
      try {
        HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + n.managementPort() + "/cluster/shards/Session"))
            .timeout(Duration.ofSeconds(5)).GET().build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          continue;
        }
        for (JsonNode region : JSON.readTree(response.body()).path("regions")) {
          if (shard.equals(region.path("shardId").asText())) {
            return OptionalInt.of(n.index());
          }
        }
      } catch (IOException e) {
        // This node does not answer: it cannot be the host we are looking for.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return OptionalInt.empty();
      }
    }
    return OptionalInt.empty();
  }

  private void startCassandra(int cql, int storage, Duration timeout) throws Exception {
    Path out = logs.resolve("failover-cassandra.log");
    Files.deleteIfExists(out);
    // stdin stays a pipe from this JVM: when it closes (this JVM exits, even by SIGKILL),
    // LocalCassandraMain stops Cassandra.
    cassandra = new ProcessBuilder("java", "-Xms64m", "-Xmx256m",
        "-Dtether.cassandra.local.home=" + state.resolve("cassandra"),
        "-Dtether.cassandra.local.lib-dir=" + state.resolve("cassandra-lib"),
        "-Dtether.cassandra.local.native-port=" + cql,
        "-Dtether.cassandra.local.storage-port=" + storage,
        "-cp", jar.toString(), "io.tether.persistence.cassandra.LocalCassandraMain")
        .directory(state.toFile())
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .start();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.readString(out).contains("CONTACT_POINT=")) {
        return;
      }
      if (!cassandra.isAlive()) {
        throw new IllegalStateException("Cassandra exited with " + cassandra.exitValue()
            + " (see " + out + ")");
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("Cassandra did not start within " + timeout + " (see " + out
        + ")");
  }

  private void migrate(Duration timeout) throws Exception {
    Path out = logs.resolve("failover-migrate.log");
    ProcessBuilder builder = new ProcessBuilder("java", "-Dconfig.resource=local1.conf", "-jar",
        jar.toString(), "migrate")
        .directory(state.toFile())
        .redirectErrorStream(true)
        .redirectOutput(out.toFile());
    environment(builder);
    Process p = builder.start();
    if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("tether migrate did not finish (see " + out + ")");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("tether migrate exited with " + p.exitValue() + " (see "
          + out + ")");
    }
  }

  private void launch(int i) throws IOException {
    Node n = nodes.get(i);
    launches[i]++;
    Path out = logs.resolve("failover-node" + (i + 1) + ".log");
    List<String> command = new ArrayList<>(List.of("java"));
    command.addAll(List.of(NODE_OPTS.trim().split("\\s+")));
    command.addAll(List.of("-Dconfig.resource=" + n.name() + ".conf",
        "-Dtether.http.port=" + n.url().getPort(),
        "-Dpekko.remote.artery.canonical.port=" + n.remotePort(),
        "-Dpekko.management.http.port=" + n.managementPort(),
        "-jar", jar.toString(), "node"));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(state.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
    environment(builder);
    Files.writeString(out, "=== bench: launch " + launches[i] + " of " + n.name() + ": "
        + String.join(" ", command) + "\n", java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    processes[i] = builder.start();
  }

  /** The cluster's settings, and none of this machine's own TETHER_* variables. */
  private void environment(ProcessBuilder builder) {
    builder.environment().keySet().removeIf(k -> k.startsWith("TETHER_"));
    builder.environment().putAll(env);
  }

  private void awaitReady(int i, long deadlineNanos) throws Exception {
    HttpRequest ready = HttpRequest.newBuilder(nodes.get(i).url().resolve("/ready"))
        .timeout(Duration.ofSeconds(5)).GET().build();
    while (System.nanoTime() < deadlineNanos) {
      if (!processes[i].isAlive()) {
        throw new IllegalStateException(nodes.get(i).name() + " exited with "
            + processes[i].exitValue() + " (see " + logs.resolve("failover-node" + (i + 1)
            + ".log") + ")");
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(nodes.get(i).name() + " was not ready in time");
  }

  /** Nodes get SIGTERM together (they leave), then Cassandra drains; the copies are deleted. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Already shutting down: this is the hook.
    }
    for (Process p : processes) {
      if (p != null && p.isAlive()) {
        p.destroy();
      }
    }
    for (Process p : processes) {
      stop(p, 60);
    }
    if (cassandra != null) {
      List<ProcessHandle> started = cassandra.descendants().toList();
      stop(cassandra, 90);
      started.forEach(h -> {
        if (h.isAlive()) {
          h.destroyForcibly();
        }
      });
    }
    DataDirs.delete(state);
  }

  private static void stop(Process p, int seconds) {
    if (p == null) {
      return;
    }
    try {
      p.destroy();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort(Set<Integer> taken) {
    for (int attempt = 0; attempt < 100; attempt++) {
      // Below the kernel's ephemeral range (32768 and up here), where outgoing connections take
      // their local ports: [30000, 40000) once lost node 1's HTTP port to one in the 17 s before
      // the node bound it, and the cluster never started.
      int port = FreePorts.pick(10000, 20000, p -> new int[0]);
      if (taken.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port");
  }

  private static String hex(SecureRandom random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
