package io.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
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
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One {@code tether dev} node for every test class of this module: the packaged
 * {@code runtime/target/tether.jar} started as a separate process, with authentication on, so
 * the client is tested the way a user runs it. Tests may kill it (SIGKILL) and start it again on
 * the same home and port. Closed when the test run ends. It runs on the test command's Cassandra
 * of its lane when {@code -Dtether.test.cassandra.contact-point} names one ({@code
 * TETHER_CASSANDRA_CONTACT_POINTS}, a keyspace of its own), else on a local Cassandra of its own.
 *
 * <p>Test classes get it as a parameter of a {@code @BeforeAll} method under
 * {@code @ExtendWith(TestNode.Shared.class)}.
 *
 * <p>For iterating on one test by hand, {@code -Dtether.test.external-node=http://127.0.0.1:PORT}
 * uses a node started beforehand with the same secrets and {@code -Dtether.auth.enabled=on};
 * tests that kill the node then fail (they need a node of their own), they are not skipped.
 */
final class TestNode implements ExtensionContext.Store.CloseableResource {
  static final String TOKEN_SECRET = "client-tests-token-secret-0123456789abcdef";
  static final String ADMIN_SECRET = "client-tests-admin-secret";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

  /** Resolves the shared node, starting it for the first class that asks. */
  static final class Shared implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
      return p.getParameter().getType() == TestNode.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
      return c.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
          .getOrComputeIfAbsent(TestNode.class, k -> {
            try {
              String external = System.getProperty("tether.test.external-node");
              if (external != null && !external.isBlank()) {
                return new TestNode(URI.create(external).getPort());
              }
              return new TestNode().start();
            } catch (Exception e) {
              throw new IllegalStateException("the test node did not start", e);
            }
          }, TestNode.class);
    }
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Path home;
  private final Path log;
  private final int httpPort;
  private final int cqlPort;
  /** The lane's Cassandra ({@code host:port}), or blank: a local one of the node's own. */
  private final String sharedCassandra =
      System.getProperty("tether.test.cassandra.contact-point", "").trim();
  /** Kept across restarts, so a restarted node finds its sessions. */
  private final String keyspace = "t_java_client_" + Long.toString(System.nanoTime(), 36);
  private Process process;
  private final Thread killOnExit = new Thread(() -> {
    if (process != null) {
      process.destroyForcibly();
    }
  }, "test-node-reaper");

  private final boolean external;

  private TestNode(int externalPort) {
    home = null;
    log = null;
    httpPort = externalPort;
    cqlPort = 0;
    external = true;
  }

  private TestNode() throws IOException {
    external = false;
    Path work = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"));
    home = work.resolve("node");
    deleteRecursively(home);
    Files.createDirectories(home);
    log = home.resolve("node.log");
    httpPort = httpPortWithFreeCassandraPorts();
    cqlPort = httpPort - 8080 + 9042;
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + httpPort;
  }

  int httpPort() {
    return httpPort;
  }

  /** Starts the node and waits until {@code /ready} answers 200. */
  TestNode start() throws Exception {
    if (external) {
      throw new IllegalStateException("this test starts and kills the node: run it without "
          + "-Dtether.test.external-node");
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xms128m", "-Xmx512m",
        "-Dtether.cassandra.local.lib-dir=" + System.getProperty("tether.cassandra.lib-dir"),
        // Dev mode turns authentication off; the tests want the token path of a real deployment.
        "-Dtether.auth.enabled=on",
        "-jar", System.getProperty("tether.jar"), "dev"));
    // The build's test JVM options, then the node-only ones (the test command's class-data
    // archive of the node's classes, when it trained one).
    command.addAll(1, Stream.of("tether.test.jvm-options", "tether.test.node-jvm-options")
        .flatMap(key -> Arrays.stream(System.getProperty(key, "").split("\\s+")))
        .filter(o -> !o.isBlank()).toList());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("TETHER_HOME", home.toString());
    builder.environment().put("TETHER_HTTP_PORT", Integer.toString(httpPort));
    if (sharedCassandra.isBlank()) {
      builder.environment().put("TETHER_CASSANDRA_PORT", Integer.toString(cqlPort));
    } else {
      builder.environment().put("TETHER_CASSANDRA_CONTACT_POINTS", sharedCassandra);
      builder.environment().put("TETHER_CASSANDRA_KEYSPACE", keyspace);
      builder.environment().put("TETHER_CASSANDRA_SNAPSHOT_KEYSPACE", keyspace + "_snap");
    }
    builder.environment().put("TETHER_AUTH_TOKEN_SECRET", TOKEN_SECRET);
    builder.environment().put("TETHER_AUTH_ADMIN_SECRET", ADMIN_SECRET);
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    process = builder.start();
    awaitReady();
    return this;
  }

  private void awaitReady() throws Exception {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("tether dev exited with " + process.exitValue() + "\n" + tail());
      }
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/ready"))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException notYetListening) {
        // still starting: probe again
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("tether dev not ready within " + START_TIMEOUT + "\n" + tail());
  }

  /** SIGKILL: no flush, no leave; a Cassandra of its own drains by itself. */
  void kill() throws InterruptedException {
    if (external) {
      throw new IllegalStateException("this test kills the node: run it without "
          + "-Dtether.test.external-node");
    }
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * A capability token for {@code subject} granting {@code capabilities} on the sessions
   * matching {@code pattern}, from the operator endpoint.
   */
  String token(String subject, String pattern, String... capabilities) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("subject", subject).put("ttlSeconds", 3600);
    ObjectNode grant = body.putArray("grants").addObject();
    ArrayNode caps = grant.putArray("capabilities");
    for (String c : capabilities) {
      caps.add(c);
    }
    grant.putArray("sessions").add(pattern);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/admin/tokens"))
        .header("Authorization", "Bearer " + ADMIN_SECRET).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 && r.statusCode() != 201) {
      throw new IllegalStateException("token request answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body()).get("token").asText();
  }

  /** A token with every capability on every session: what most tests use. */
  String fullToken() throws Exception {
    return token("client-tests", "*", "subscribe", "publish", "control");
  }

  /** The session's items from the start, read over Durable Streams HTTP (not the client). */
  List<JsonNode> read(String sessionId, String token) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create(baseUrl() + "/v1/stream/" + sessionId + "?offset=-1"))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("read answered " + r.statusCode() + ": " + r.body());
    }
    List<JsonNode> items = new ArrayList<>();
    JSON.readTree(r.body()).forEach(items::add);
    return items;
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
    if (external) {
      return;
    }
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
    Runtime.getRuntime().removeShutdownHook(killOnExit);
  }

  /**
   * An HTTP port whose derived ports ({@code tether dev} derives CQL 9042, Cassandra's internode
   * port 17000 and Pekko Management 8558, each plus {@code port - 8080}) are free, all below the
   * kernel's ephemeral range. The node is killed and started again on the same ports; a port in
   * that range can meanwhile be handed out as the local port of any outgoing connection on the
   * machine, and the restart then fails to bind it.
   */
  private static int httpPortWithFreeCassandraPorts() throws IOException {
    int ceiling = ephemeralLow();
    java.util.Random random = new java.util.Random();
    for (int i = 0; i < 1_000; i++) {
      int port = 10_000 + random.nextInt(Math.max(1, ceiling - 8_920 - 10_000));
      int offset = port - 8080;
      if (bindable(port) && bindable(9042 + offset) && bindable(17000 + offset)
          && bindable(8558 + offset) && 17000 + offset < ceiling) {
        return port;
      }
    }
    throw new IOException("no free port set below " + ceiling);
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new java.net.InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
  private static int ephemeralLow() {
    try (var reader = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      return Integer.parseInt(reader.readLine().trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
