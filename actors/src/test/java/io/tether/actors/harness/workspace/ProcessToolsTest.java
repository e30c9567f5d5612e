package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.workspace.CommandRunner.Limits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code start_process} and {@code stop_process} with real processes and real sockets: a Python
 * HTTP server started in the workspace answers the real {@code http_probe} in later tool calls,
 * and its port refuses once it is stopped; the lifetime cap and the end of the role's task leave
 * none of its processes alive; a run's fourth process is refused; and the long-lived process is
 * confined like {@code run_command} (the sandbox, so the node's environment, holding the marker
 * secret surefire sets, is out of reach). Its port is in the run's own network namespace: the
 * run's commands and probes reach it, the node and other runs do not, and a port is taken or
 * free per run.
 */
class ProcessToolsTest {

  private static final String PATH = "/usr/local/bin:/usr/bin:/bin";
  private static final String MARKER_VARIABLE = "TETHER_TEST_PARENT_SECRET";
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final AtomicInteger CALLS = new AtomicInteger();

  @TempDir Path root;

  private final WorkspaceToolsTest.MapStore store = new WorkspaceToolsTest.MapStore();
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private ProcessSupervisor supervisor;

  @BeforeAll
  static void python3IsOnThePathCommandsGet() {
    assertTrue(Files.isExecutable(Path.of("/usr/bin/python3"))
        || Files.isExecutable(Path.of("/usr/local/bin/python3")), "these tests need python3");
  }

  @AfterEach
  void stopEverything() {
    if (supervisor != null) {
      for (String run : List.of("r1", "r2")) {
        supervisor.stopRun(run);
      }
    }
    executor.shutdownNow();
  }

  private static final Sandbox SANDBOX = Sandbox.defaults();
  private static final Sandbox UNCONFINED =
      new Sandbox(Sandbox.Settings.defaults().withMode(Sandbox.Mode.DANGEROUSLY_UNCONFINED));

  @org.junit.jupiter.api.BeforeEach
  void reachableByTheSandbox() throws IOException {
    Sandboxes.reachable(root);
  }

  private WorkspaceTools tools(Sandbox sandbox, Duration lifetime) {
    CommandRunner runner = new CommandRunner(Duration.ofSeconds(20), 16 * 1024, PATH,
        Limits.defaults(), sandbox);
    supervisor = new ProcessSupervisor(runner, 3, lifetime, Duration.ofSeconds(30), 16 * 1024);
    return new WorkspaceTools(store, root, runner, supervisor,
        new HttpProbe(Duration.ofSeconds(5), 16 * 1024, true, sandbox), 64 * 1024, executor);
  }

  private static WorkspaceTools.Outcome call(WorkspaceTools tools, String runId, String author,
      String name, String args) throws Exception {
    return tools.execute(runId, author,
            new ToolCall("c" + CALLS.incrementAndGet(), name, args))
        .toCompletableFuture().get();
  }

  private static String json(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A server on a free port: its command line names it in the machine's process list. */
  private static String server(int port) {
    return "python3 -m http.server " + port + " --bind 127.0.0.1";
  }

  /**
   * The live processes running exactly {@code commandLine} (the program itself, not the
   * wrappers and shells whose arguments mention it).
   */
  private static List<ProcessHandle> running(String commandLine) {
    return ProcessHandle.allProcesses()
        .filter(p -> normalized(p.info().commandLine().orElse("")).equals(commandLine))
        .filter(ProcessHandle::isAlive)
        .toList();
  }

  private static String normalized(String commandLine) {
    int space = commandLine.indexOf(' ');
    if (space < 0) {
      return commandLine;
    }
    String program = Path.of(commandLine.substring(0, space)).getFileName().toString()
        .replaceFirst("^python3\\.\\d+$", "python3");
    return program + commandLine.substring(space);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
      Thread.sleep(50);
    }
  }

  @Test
  void aStartedServerAnswersHttpProbeInLaterCallsAndItsPortRefusesOnceStopped() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    int port = freePort();
    assertFalse(call(tools, "r1", "evaluator", "write_file",
        "{\"path\": \"hello.txt\", \"content\": \"hello from the workspace\"}").error());

    WorkspaceTools.Outcome started = call(tools, "r1", "evaluator", "start_process",
        "{\"command\": " + json(server(port)) + ", \"port\": " + port + "}");
    assertFalse(started.error(), started.output());
    assertTrue(started.output().startsWith("started p"), started.output());
    assertTrue(started.output().contains("accepting on 127.0.0.1:" + port), started.output());
    String id = started.output().substring("started ".length()).split(" ")[0];

    // A separate tool call: the server outlived the call that started it.
    WorkspaceTools.Outcome probed = call(tools, "r1", "evaluator", "http_probe",
        "{\"url\": \"http://127.0.0.1:" + port + "/hello.txt\"}");
    assertEquals("status=200\nhello from the workspace", probed.output());
    assertEquals(1, running(server(port)).size(), "the server's own process");
    assertTrue(tools.accepts("r1", port), "the run's network reaches it");
    assertFalse(accepts(port), "the node's loopback does not: the port is the run's");
    assertFalse(tools.accepts("r2", port), "nor does another run's network");

    WorkspaceTools.Outcome stopped = call(tools, "r1", "evaluator", "stop_process",
        "{\"id\": \"" + id + "\"}");
    assertFalse(stopped.error(), stopped.output());
    assertTrue(stopped.output().startsWith("stopped " + id), stopped.output());
    assertTrue(stopped.output().contains("GET /hello.txt"), "its log: " + stopped.output());
    assertFalse(tools.accepts("r1", port), "the port refuses once stop_process returned");
    assertEquals(List.of(), running(server(port)));
    String refused = call(tools, "r1", "evaluator", "http_probe",
        "{\"url\": \"http://127.0.0.1:" + port + "/hello.txt\"}").output();
    assertTrue(refused.startsWith("error=curl: (7) Failed to connect"), refused);

    WorkspaceTools.Outcome again = call(tools, "r1", "evaluator", "stop_process",
        "{\"id\": \"" + id + "\"}");
    assertTrue(again.error() && again.output().contains("no process " + id), again.output());
  }

  @Test
  void theLifetimeCapKillsTheProcessAndEverythingItStarted() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofSeconds(3));
    String child = "sleep 302." + System.nanoTime() % 1_000_000_000L;
    String daemon = "sleep 303." + System.nanoTime() % 1_000_000_000L;
    WorkspaceTools.Outcome started = call(tools, "r1", "generator", "start_process",
        "{\"command\": " + json("setsid sh -c '" + daemon + " & exit'; " + child + " & wait")
            + ", \"wait_seconds\": 0}");
    assertFalse(started.error(), started.output());
    await("both sleeps run", () -> running(child).size() == 1 && running(daemon).size() == 1);

    await("the lifetime cap killed both", () -> running(child).isEmpty()
        && running(daemon).isEmpty());
    assertEquals(List.of(), supervisor.running("r1"));
    WorkspaceTools.Outcome stopped = call(tools, "r1", "generator", "stop_process",
        "{\"id\": \"p1\"}");
    assertTrue(stopped.output().contains("(killed: lifetime cap of 3 s)"), stopped.output());
  }

  @Test
  void theEndOfARolesTaskStopsItsProcessesAndNoOneElses() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    int evaluatorPort = freePort();
    int generatorPort = freePort();
    int otherRunPort = freePort();
    for (var start : List.of(List.of("r1", "evaluator", evaluatorPort),
        List.of("r1", "generator", generatorPort), List.of("r2", "evaluator", otherRunPort))) {
      int port = (Integer) start.get(2);
      WorkspaceTools.Outcome started = call(tools, (String) start.get(0),
          (String) start.get(1), "start_process",
          "{\"command\": " + json(server(port)) + ", \"port\": " + port + "}");
      assertFalse(started.error(), started.output());
    }

    tools.releaseProcesses("r1", "evaluator");
    // Released in the background: a dying process loses its command line before its sockets.
    await("the evaluator's server is gone and its port refuses",
        () -> running(server(evaluatorPort)).isEmpty() && !tools.accepts("r1", evaluatorPort));
    assertTrue(tools.accepts("r1", generatorPort), "another role's process keeps running");
    assertTrue(tools.accepts("r2", otherRunPort), "another run's process keeps running");

    supervisor.stopRun("r1");
    assertEquals(List.of(), running(server(generatorPort)));
    assertEquals(1, supervisor.running("r2").size());
  }

  @Test
  void aRunsFourthProcessIsRefusedUntilOneIsStopped() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    String sleep = "sleep 304." + System.nanoTime() % 1_000_000_000L;
    for (int i = 1; i <= 3; i++) {
      WorkspaceTools.Outcome started = call(tools, "r1", "generator", "start_process",
          "{\"command\": " + json(sleep) + ", \"wait_seconds\": 0}");
      assertTrue(started.output().startsWith("started p" + i), started.output());
    }
    WorkspaceTools.Outcome fourth = call(tools, "r1", "generator", "start_process",
        "{\"command\": " + json(sleep) + ", \"wait_seconds\": 0}");
    assertTrue(fourth.error(), fourth.output());
    assertTrue(fourth.output().contains("already has 3 running processes, its limit"),
        fourth.output());
    // Started with wait_seconds 0: each sleep may still be on its way through the wrappers.
    await("the three sleeps run", () -> running(sleep).size() == 3);
    assertEquals(3, supervisor.running("r1").size(), "nothing was started for the refused call");

    assertFalse(call(tools, "r2", "generator", "start_process",
        "{\"command\": " + json(sleep) + ", \"wait_seconds\": 0}").error(),
        "the limit is per run");
    assertFalse(call(tools, "r1", "generator", "stop_process", "{\"id\": \"p2\"}").error());
    WorkspaceTools.Outcome afterStop = call(tools, "r1", "generator", "start_process",
        "{\"command\": " + json(sleep) + ", \"wait_seconds\": 0}");
    assertFalse(afterStop.error(), afterStop.output());
  }

  @Test
  void aProcessThatExitsBeforeItsPortAcceptsFailsWithItsOutput() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    int port = freePort();
    WorkspaceTools.Outcome failed = call(tools, "r1", "generator", "start_process",
        "{\"command\": \"echo no server here; exit 3\", \"port\": " + port + "}");
    assertTrue(failed.error(), failed.output());
    assertTrue(failed.output().contains("exited with exit_code=3 before it was ready"),
        failed.output());
    assertTrue(failed.output().contains("no server here"), failed.output());
    assertEquals(List.of(), supervisor.running("r1"));
  }

  @Test
  void aPortTheRunAlreadyUsesIsRefusedBeforeAnythingStartsAndPortsArePerRun() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    int port = freePort();
    assertFalse(call(tools, "r1", "generator", "start_process",
        "{\"command\": " + json(server(port)) + ", \"port\": " + port + "}").error());
    WorkspaceTools.Outcome refused = call(tools, "r1", "evaluator", "start_process",
        "{\"command\": " + json(server(port)) + ", \"port\": " + port + "}");
    assertTrue(refused.error(), refused.output());
    assertTrue(refused.output().contains("is already in use"), refused.output());
    assertEquals(1, supervisor.running("r1").size());
    assertEquals(1, running(server(port)).size(), "nothing was started for the refused call");

    // Another run has its own network: the same port is free there, and so is one the node
    // itself holds.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      for (int p : List.of(port, taken.getLocalPort())) {
        WorkspaceTools.Outcome started = call(tools, "r2", "generator", "start_process",
            "{\"command\": " + json(server(p)) + ", \"port\": " + p + "}");
        assertFalse(started.error(), started.output());
      }
    }
    assertEquals(2, supervisor.running("r2").size());
  }

  @Test
  void aLongLivedProcessCannotReadTheNodesEnvironment() throws Exception {
    String marker = System.getenv(MARKER_VARIABLE);
    assertTrue(marker != null && marker.length() >= 16, MARKER_VARIABLE + " must be set");
    String leak = "echo $$ > pid.txt; (cat /proc/$PPID/environ; cat /proc/*/environ)"
        + " > leak.txt 2>&1; ";
    // Only where it is confined: unconfined, as root, this would unmount the machine's /proc.
    String uncover = "(umount -l /proc; cat /proc/*/environ) >> leak.txt 2>&1; ";

    WorkspaceTools isolated = tools(SANDBOX, Duration.ofMinutes(5));
    int port = freePort();
    WorkspaceTools.Outcome started = call(isolated, "r1", "evaluator", "start_process",
        "{\"command\": " + json(leak + uncover + "exec " + server(port)) + ", \"port\": " + port + "}");
    assertFalse(started.error(), started.output());
    assertEquals("status=200\n2\n", call(isolated, "r1", "evaluator", "http_probe",
        "{\"url\": \"http://127.0.0.1:" + port + "/pid.txt\"}").output(),
        "the server is PID 2 of its own namespace");
    String read = call(isolated, "r1", "evaluator", "http_probe",
        "{\"url\": \"http://127.0.0.1:" + port + "/leak.txt\"}").output();
    assertTrue(read.startsWith("status=200"), read);
    assertFalse(read.contains(marker), "the long-lived process read the node's environment");
    supervisor.stopRun("r1");

    // The same process without isolation does read it, so the assertion above can fail.
    WorkspaceTools open = tools(UNCONFINED, Duration.ofMinutes(5));
    int openPort = freePort();
    assertFalse(call(open, "r2", "evaluator", "start_process",
        "{\"command\": " + json(leak + "exec " + server(openPort)) + ", \"port\": " + openPort
            + "}").error());
    assertTrue(call(open, "r2", "evaluator", "http_probe",
            "{\"url\": \"http://127.0.0.1:" + openPort + "/leak.txt\"}").output()
        .contains(marker));
    supervisor.stopRun("r2");
    assertFalse(open.accepts("r2", openPort));
  }

  @Test
  void stoppingAnotherRunsProcessIsRefused() throws Exception {
    WorkspaceTools tools = tools(SANDBOX, Duration.ofMinutes(5));
    String sleep = "sleep 305." + System.nanoTime() % 1_000_000_000L;
    assertFalse(call(tools, "r1", "generator", "start_process",
        "{\"command\": " + json(sleep) + ", \"wait_seconds\": 0}").error());
    await("the sleep runs", () -> running(sleep).size() == 1);
    WorkspaceTools.Outcome refused = call(tools, "r2", "generator", "stop_process",
        "{\"id\": \"p1\"}");
    assertTrue(refused.error(), refused.output());
    assertEquals(1, running(sleep).size(), "stop_process of another run's id killed nothing");
    assertThrows(IllegalArgumentException.class, () -> supervisor.stop("r2", "p1"));
  }
}
