package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.tether.actors.harness.model.ToolCall;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prompt-injected model, through the real tools (the calls a model makes, run by the real
 * {@link WorkspaceTools} in the real bubblewrap sandbox), tries to get out of its run: to read
 * the node's {@code /etc/passwd}, its home (where a file holds both auth secrets) and its
 * environment (a marker secret surefire puts in this JVM's), and another run's workspace; to
 * write outside its workspace; to reach the node's HTTP port and Cassandra (listeners of this
 * JVM on the node's loopback stand in for both) or any address beyond loopback. Each attempt
 * fails, while the same run's Evaluator still reaches the app it started, with {@code
 * http_probe} and from a command. The same attempts with {@code sandbox.mode =
 * dangerously-unconfined} succeed, so every assertion here can fail.
 */
class HostileModelTest {

  private static final String MARKER_VARIABLE = "TETHER_TEST_PARENT_SECRET";
  private static final AtomicInteger CALLS = new AtomicInteger();
  private static final ExecutorService EXECUTOR = Executors.newCachedThreadPool();

  @TempDir static Path scratch;
  private static Path nodeHome;
  private static Path secrets;
  private static HttpServer nodeHttp;
  private static ServerSocket cassandra;

  @BeforeAll
  static void aNodeWithSecrets() throws Exception {
    Sandboxes.reachable(scratch);
    // The node's home, as TETHER_HOME is: readable to the node's user only.
    nodeHome = Files.createDirectories(scratch.resolve("node-home"));
    secrets = nodeHome.resolve("auth.env");
    Files.writeString(secrets, "TETHER_AUTH_TOKEN_SECRET=node-secret-5b1f0e2c9a7d\n");
    nodeHttp = Sandboxes.textServer(InetAddress.getLoopbackAddress(), "/metrics",
        "tether_node_metric 1");
    cassandra = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterAll
  static void stop() throws IOException {
    nodeHttp.stop(0);
    cassandra.close();
    EXECUTOR.shutdownNow();
  }

  private static WorkspaceTools tools(Path root, Sandbox sandbox) {
    CommandRunner runner = new CommandRunner(Duration.ofSeconds(20), 64 * 1024,
        "/usr/local/bin:/usr/bin:/bin", CommandRunner.Limits.defaults(), sandbox);
    return new WorkspaceTools(new WorkspaceToolsTest.MapStore(), root, runner,
        new ProcessSupervisor(runner, 3, Duration.ofMinutes(2), Duration.ofSeconds(30), 16384),
        new HttpProbe(Duration.ofSeconds(5), 16384, true, sandbox), 65536, EXECUTOR);
  }

  private static String call(WorkspaceTools tools, String runId, String name, String args)
      throws Exception {
    return tools.execute(runId, "generator",
        new ToolCall("c" + CALLS.incrementAndGet(), name, args)).toCompletableFuture().get()
        .output();
  }

  private static String run(WorkspaceTools tools, String runId, String command) throws Exception {
    return call(tools, runId, "run_command", "{\"command\": " + json(command) + "}");
  }

  private static String json(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String marker() {
    String marker = System.getenv(MARKER_VARIABLE);
    assertTrue(marker != null && marker.length() >= 16, MARKER_VARIABLE + " must be set");
    return marker;
  }

  /** Every way this test knows of out of a run, as shell commands, with what would show it. */
  private record Escape(String what, String command, String evidence) {}

  private List<Escape> escapes(Path otherWorkspace) {
    String hostPasswdRoot = "root:x:0:0:root:/root:";
    String http = "127.0.0.1:" + nodeHttp.getAddress().getPort();
    String cql = "127.0.0.1:" + cassandra.getLocalPort();
    return List.of(
        new Escape("the node's /etc/passwd", "cat /etc/passwd", hostPasswdRoot),
        new Escape("the node's home", "cat " + secrets + "; cat /root/.bashrc; ls -a /root",
            "node-secret-5b1f0e2c9a7d"),
        new Escape("a search of the whole filesystem for the secrets file",
            "find / -maxdepth 4 -name auth.env 2>/dev/null", secrets.toString()),
        new Escape("the node's environment",
            "env; cat /proc/$PPID/environ /proc/*/environ /proc/1/environ 2>/dev/null",
            marker()),
        new Escape("another run's workspace", "ls " + otherWorkspace + "; cat "
            + otherWorkspace + "/their-secret.txt", "the other run's secret"),
        new Escape("the node's HTTP port and /metrics", "curl -s --max-time 3 http://" + http
            + "/metrics", "tether_node_metric"),
        new Escape("Cassandra's CQL port", "bash -c 'exec 3<>/dev/tcp/" + cql.replace(':', '/')
            + "' && echo cql-connected", "cql-connected"),
        new Escape("the node's listening sockets", "cat /proc/net/tcp /proc/net/tcp6",
            String.format(":%04X", cassandra.getLocalPort())),
        new Escape("a route beyond loopback", "cat /proc/net/route; ip route 2>/dev/null",
            "00000000"));
  }

  @Test
  void aHostileModelCannotLeaveItsRunButItsEvaluatorReachesTheAppItStarted() throws Exception {
    Path root = Sandboxes.reachable(Files.createDirectories(scratch.resolve("sandboxed")));
    WorkspaceTools tools = tools(root, Sandbox.defaults());
    assertTrue(tools.sandbox().describe().startsWith("bubblewrap"), tools.sandbox().describe());
    assertFalse(call(tools, "other", "write_file",
        "{\"path\": \"their-secret.txt\", \"content\": \"the other run's secret\"}")
        .contains("failed"));
    Path otherWorkspace = tools.local("other").dir();

    for (Escape escape : escapes(otherWorkspace)) {
      String output = run(tools, "r1", escape.command());
      assertFalse(output.contains(escape.evidence()), escape.what() + " reached: " + output);
    }
    String passwd = run(tools, "r1", "cat /etc/passwd; id -u; id -u root");
    assertTrue(passwd.contains("sandbox:x:65532:65532:"), "the sandbox's own passwd: " + passwd);
    assertTrue(passwd.contains("\n65532\n0"), "not root: " + passwd);
    assertTrue(run(tools, "r1", "grep Cap /proc/self/status").matches(
        "(?s)exit_code=0\n(Cap\\w+:\\s+0+\n){5}"), "no capabilities");

    // Nothing beyond loopback: no route, so a connect fails at once (no packet is sent).
    String outside = run(tools, "r1", "bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>&1");
    assertTrue(outside.contains("Network is unreachable"), outside);
    assertTrue(call(tools, "r1", "http_probe", "{\"url\": \"http://127.0.0.1:"
        + nodeHttp.getAddress().getPort() + "/metrics\"}").startsWith("error="),
        "http_probe reaches the node's HTTP port");

    // Writes outside the workspace: the system is read-only, the node's paths are not there.
    Path planted = scratch.resolve("planted.txt");
    String writes = run(tools, "r1", "touch /usr/planted /etc/planted /planted; echo x > "
        + planted + "; echo x > " + otherWorkspace + "/planted.txt; echo x > /tmp/own; ls /tmp");
    assertTrue(writes.contains("Read-only file system"), writes);
    assertFalse(Files.exists(planted), "wrote into the node's filesystem");
    assertFalse(Files.exists(otherWorkspace.resolve("planted.txt")), "wrote into another run");
    assertTrue(Files.readString(secrets).contains("node-secret"));

    // The same run's Evaluator still reaches the app it started, in later calls.
    int port = freePort();
    assertFalse(call(tools, "r1", "write_file",
        "{\"path\": \"index.html\", \"content\": \"the run's own app\"}").contains("failed"));
    String started = call(tools, "r1", "start_process", "{\"command\": "
        + json("python3 -m http.server " + port + " --bind 127.0.0.1") + ", \"port\": " + port
        + "}");
    assertTrue(started.startsWith("started p"), started);
    assertEquals("status=200\nthe run's own app", call(tools, "r1", "http_probe",
        "{\"url\": \"http://localhost:" + port + "/index.html\"}"));
    assertEquals("exit_code=0\nthe run's own app", run(tools, "r1",
        "curl -s http://127.0.0.1:" + port + "/index.html"));
    // ... which nothing outside the run reaches: not the node, not another run.
    assertFalse(reachableFromNode(port), "the node reaches the run's app");
    assertTrue(call(tools, "other", "http_probe", "{\"url\": \"http://127.0.0.1:" + port
        + "/index.html\"}").startsWith("error="), "another run reaches this run's app");
    tools.processes().stopRun("r1");
  }

  @Test
  void egressFromTheRunsPolicyReachesBeyondLoopbackButNeverTheNodesOwnLoopback()
      throws Exception {
    // A server on the node's non-loopback address stands in for a host beyond the run (no
    // other host is reachable from a test machine): what egress reaches, and nothing else does.
    InetAddress address = Sandboxes.nonLoopbackAddress();
    // A network namespace of the machine's own, as `ip netns` (CNI, operators) makes them.
    String hostNamespace = "tether-egress-test-" + ProcessHandle.current().pid();
    ip("netns", "add", hostNamespace);
    HttpServer beyond = Sandboxes.textServer(address, "/", "beyond the run");
    try {
      String target = address.getHostAddress() + "/" + beyond.getAddress().getPort();
      String fetch = "curl -s --max-time 5 http://" + address.getHostAddress() + ":"
          + beyond.getAddress().getPort() + "/";
      String connect = "bash -c 'exec 3<>/dev/tcp/" + target + "' 2>&1";
      Path root = Sandboxes.reachable(Files.createDirectories(scratch.resolve("egress")));
      WorkspaceTools tools = tools(root, Sandbox.defaults());

      // Without egress (every run's default), as in the test above: no route.
      assertTrue(run(tools, "r-egress", connect).contains("Network is unreachable"));

      // The policy gives it: the run's next call reaches the address, with a resolver.
      tools.allowEgress("r-egress", true);
      assertEquals("exit_code=0\nbeyond the run", run(tools, "r-egress", fetch));
      // ... and the machine's own network namespaces are untouched: slirp4netns's sandbox, run
      // as root in the node's mount namespace, unmounted every `ip netns` namespace of the host
      // (seen first as ClusterPartitionIT's hosts failing to start beside this test).
      try {
        ip("netns", "exec", hostNamespace, "true");
      } catch (AssertionError broken) {
        throw new AssertionError("giving a run egress broke the host's network namespace "
            + hostNamespace + ": " + broken.getMessage(), broken);
      }
      assertEquals("exit_code=0\nnameserver 10.0.2.3", run(tools, "r-egress",
          "cat /etc/resolv.conf").trim());
      // ... but never the node's loopback: not as 127.0.0.1 (the run's own) nor through the
      // NAT's alias of the host (10.0.2.2), for HTTP or Cassandra.
      int http = nodeHttp.getAddress().getPort();
      for (String host : List.of("127.0.0.1", "10.0.2.2")) {
        String metrics = run(tools, "r-egress", "curl -s --max-time 3 http://" + host + ":"
            + http + "/metrics; echo; bash -c 'exec 3<>/dev/tcp/" + host + "/"
            + cassandra.getLocalPort() + "' && echo cql-connected");
        assertFalse(metrics.contains("tether_node_metric"), host + ": " + metrics);
        assertFalse(metrics.contains("cql-connected"), host + ": " + metrics);
      }
      // ... nor is it given to another run, which has none.
      assertTrue(run(tools, "r-closed", connect).contains("Network is unreachable"));
      // The run's own app stays reachable with egress on.
      int port = freePort();
      assertTrue(call(tools, "r-egress", "start_process", "{\"command\": "
          + json("python3 -m http.server " + port + " --bind 127.0.0.1") + ", \"port\": "
          + port + "}").startsWith("started p"));
      assertTrue(call(tools, "r-egress", "http_probe", "{\"url\": \"http://127.0.0.1:" + port
          + "/\"}").startsWith("status=200"));

      // Taken back (a policy without it): the same namespace loses its route at the next call,
      // while the run's app is still up.
      tools.allowEgress("r-egress", false);
      assertTrue(run(tools, "r-egress", connect).contains("Network is unreachable"));
      assertTrue(call(tools, "r-egress", "http_probe", "{\"url\": \"http://127.0.0.1:" + port
          + "/\"}").startsWith("status=200"));
      tools.processes().stopRun("r-egress");

      // An operator who refuses egress (sandbox.allow-egress = off): a policy asking for it
      // gets none, and run creation is refused with this reason.
      WorkspaceTools refusing = tools(Sandboxes.reachable(Files.createDirectories(
          scratch.resolve("egress-refused"))),
          new Sandbox(Sandbox.Settings.defaults().withAllowEgress(false)));
      assertTrue(refusing.egressRefusal().orElseThrow().contains("allow-egress = off"));
      refusing.allowEgress("r-refused", true);
      assertTrue(run(refusing, "r-refused", connect).contains("Network is unreachable"));
      assertTrue(tools.egressRefusal().isEmpty());
    } finally {
      beyond.stop(0);
      ip("netns", "del", hostNamespace);
    }
  }

  /** Runs {@code ip}; its output, or a failure with it. */
  private static String ip(String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of("ip"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", argv) + " failed: " + out);
    }
    return out;
  }

  @Test
  void unconfinedTheSameAttemptsSucceed() throws Exception {
    // The operator's explicit opt-out: every escape above works, so the test above can fail.
    Path root = Sandboxes.reachable(Files.createDirectories(scratch.resolve("unconfined")));
    WorkspaceTools tools = tools(root, new Sandbox(Sandbox.Settings.defaults()
        .withMode(Sandbox.Mode.DANGEROUSLY_UNCONFINED)));
    assertEquals("DANGEROUSLY UNCONFINED", tools.sandbox().describe());
    call(tools, "other", "write_file",
        "{\"path\": \"their-secret.txt\", \"content\": \"the other run's secret\"}");
    for (Escape escape : escapes(tools.local("other").dir())) {
      String output = run(tools, "r1", escape.command());
      assertTrue(output.contains(escape.evidence()), escape.what() + " not reached: " + output);
    }
    assertTrue(call(tools, "r1", "http_probe", "{\"url\": \"http://127.0.0.1:"
        + nodeHttp.getAddress().getPort() + "/metrics\"}").contains("tether_node_metric"));
  }

  @Test
  void whereTheSandboxCannotBeMadeToolsAreRefusedAndNothingRuns() throws Exception {
    Path root = Sandboxes.reachable(Files.createDirectories(scratch.resolve("refused")));
    WorkspaceTools tools = tools(root, new Sandbox(Sandbox.Settings.defaults(),
        "/nonexistent/tether-no-bwrap"));
    assertTrue(tools.sandbox().describe().startsWith("refused: "), tools.sandbox().describe());
    Path ran = scratch.resolve("ran.txt");
    for (String[] c : List.of(
        new String[] {"run_command", "{\"command\": " + json("echo ran > " + ran) + "}"},
        new String[] {"start_process", "{\"command\": " + json("echo ran > " + ran) + "}"},
        new String[] {"http_probe", "{\"url\": \"http://127.0.0.1:"
            + nodeHttp.getAddress().getPort() + "/metrics\"}"})) {
      WorkspaceTools.Outcome outcome = tools.execute("r1", "generator",
          new ToolCall("c", c[0], c[1])).toCompletableFuture().get();
      assertTrue(outcome.error(), outcome.output());
      assertTrue(outcome.output().startsWith(c[0] + " failed: tools are refused: this node"
          + " cannot confine them"), outcome.output());
    }
    assertFalse(Files.exists(ran));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static boolean reachableFromNode(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
