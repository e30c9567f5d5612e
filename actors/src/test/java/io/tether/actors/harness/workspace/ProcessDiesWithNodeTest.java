package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.workspace.CommandRunner.Limits;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node killed with SIGKILL takes its long-lived processes with it: a separate JVM (the node)
 * starts a Python HTTP server through {@link ProcessSupervisor} (or waits on a {@code
 * run_command} that serves) in the sandbox and the run's network namespace, and is then killed;
 * the server, the sandbox around it and the namespace's holder must all be gone, with no
 * shutdown hook having run.
 */
class ProcessDiesWithNodeTest {

  @TempDir Path dir;

  /** The node: starts one server on the given port, says so, and waits to be killed. */
  public static final class Node {
    public static void main(String[] args) throws Exception {
      CommandRunner runner = new CommandRunner(Duration.ofSeconds(20), 4096,
          "/usr/local/bin:/usr/bin:/bin", Limits.defaults(), Sandbox.defaults());
      ProcessSupervisor supervisor = new ProcessSupervisor(runner, 3, Duration.ofMinutes(5),
          Duration.ofSeconds(30), 4096);
      int port = Integer.parseInt(args[1]);
      String server = "python3 -m http.server " + port + " --bind 127.0.0.1";
      if (args.length > 2 && args[2].equals("run_command")) {
        // A command the node is still waiting for (its timeout is far away) when it dies.
        CommandRunner patient = new CommandRunner(Duration.ofMinutes(10), 4096,
            "/usr/local/bin:/usr/bin:/bin", Limits.defaults(), Sandbox.defaults());
        Thread command = new Thread(() -> patient.run("r1", Path.of(args[0]), "exec " + server));
        command.setDaemon(true);
        command.start();
        while (running(server).isEmpty()) {
          Thread.sleep(50); // polling for the server the command starts
        }
        System.out.println("started command");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
      }
      System.out.println(supervisor.start("r1", "evaluator", Path.of(args[0]),
          "python3 -m http.server " + port + " --bind 127.0.0.1", port, Duration.ofSeconds(30))
          .lines().findFirst().orElseThrow());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  @Test
  void aNodeKilledWithSigkillLeavesNoProcessOfItsRunsBehind() throws Exception {
    killedNodeLeavesNothing("start_process");
  }

  @Test
  void aNodeKilledWithSigkillMidCommandLeavesNoCommandBehind() throws Exception {
    killedNodeLeavesNothing("run_command");
  }

  private void killedNodeLeavesNothing(String mode) throws Exception {
    Sandboxes.reachable(dir);
    java.nio.file.Files.setAttribute(dir, "unix:uid", Sandbox.defaults().workspaceUid());
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process node = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Node.class.getName(), dir.toString(), Integer.toString(port), mode)
        .redirectErrorStream(true).start();
    String server = "python3 -m http.server " + port + " --bind 127.0.0.1";
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
      String line;
      StringBuilder seen = new StringBuilder();
      while ((line = out.readLine()) != null && !line.startsWith("started ")) {
        seen.append(line).append('\n');
      }
      assertTrue(line != null, "the node did not start the server:\n" + seen);
      assertEquals(1, running(server).size());
      // Everything the node started for the run: wrappers, bwrap, the server, and the holder of
      // the run's network namespace (a sandboxed sleep).
      List<ProcessHandle> started = node.descendants().toList();
      assertTrue(started.stream().anyMatch(p -> p.info().commandLine().orElse("")
          .endsWith("sleep infinity")), "the namespace's holder runs");

      node.destroyForcibly();
      assertTrue(node.waitFor(20, TimeUnit.SECONDS));
      assertEquals(137, node.exitValue(), "SIGKILL: no shutdown hook ran");

      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!running(server).isEmpty() || started.stream().anyMatch(ProcessHandle::isAlive)) {
        assertTrue(System.nanoTime() < deadline, "outlived its node: "
            + started.stream().filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList());
        Thread.sleep(50);
      }
    } finally {
      node.destroyForcibly();
      running(server).forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static List<ProcessHandle> running(String commandLine) {
    return ProcessHandle.allProcesses()
        .filter(p -> {
          String cl = p.info().commandLine().orElse("");
          int space = cl.indexOf(' ');
          return space > 0 && Path.of(cl.substring(0, space)).getFileName().toString()
              .startsWith("python3") && ("python3" + cl.substring(space)).equals(commandLine);
        })
        .filter(ProcessHandle::isAlive)
        .toList();
  }
}
