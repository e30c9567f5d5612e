package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.workspace.CommandRunner.Limits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command cannot reach the node's own environment through {@code /proc}: the test JVM plays
 * the node, with a marker secret in its environment (set by surefire in the root pom), and real
 * commands try every way to it (the parent's environ, every environ, the process list, and
 * uncovering the node's {@code /proc} by unmounting the private one, directly and from nested
 * user namespaces). Unconfined the first of them does show the marker, so the test can fail. In
 * the sandbox the timeout still kills the whole tree, daemons included; where no sandbox can be
 * made, commands are refused unless the operator chose {@code dangerously-unconfined}.
 */
class CommandIsolationTest {

  private static final String MARKER_VARIABLE = "TETHER_TEST_PARENT_SECRET";
  private static final String PATH = "/usr/local/bin:/usr/bin:/bin";
  private static final Sandbox UNCONFINED =
      new Sandbox(Sandbox.Settings.defaults().withMode(Sandbox.Mode.DANGEROUSLY_UNCONFINED));

  @TempDir Path dir;

  @org.junit.jupiter.api.BeforeEach
  void reachableByTheSandbox() throws Exception {
    Sandboxes.reachable(dir);
    java.nio.file.Files.setAttribute(dir, "unix:uid", Sandbox.defaults().workspaceUid());
  }

  private static String marker() {
    String marker = System.getenv(MARKER_VARIABLE);
    assertTrue(marker != null && marker.length() >= 16, MARKER_VARIABLE
        + " must be in the test JVM's environment (the root pom's surefire environmentVariables)");
    return marker;
  }

  private static CommandRunner runner(Duration timeout, Sandbox sandbox) {
    return new CommandRunner(timeout, 64 * 1024, PATH, Limits.defaults(), sandbox);
  }

  @Test
  void aCommandCannotReadTheNodesEnvironmentThroughProc() {
    CommandRunner runner = runner(Duration.ofSeconds(20), Sandbox.defaults());
    assertTrue(runner.isolation().startsWith("bubblewrap"), runner.isolation());
    // In a network namespace of its own and in its run's, which the run's processes share.
    assertNothingOfTheNodeIsVisible(runner, marker(), null);
    assertNothingOfTheNodeIsVisible(runner, marker(), "r1");
  }

  private void assertNothingOfTheNodeIsVisible(CommandRunner runner, String marker,
      String runId) {
    List<String> attempts = List.of(
        "cat /proc/$PPID/environ",
        "cat /proc/*/environ",
        "cat /proc/*/task/*/environ",
        "ps -ef",
        // Uncovering the node's /proc beneath the private one, directly and from a nested
        // user namespace (where a process regains capabilities), or mounting another view.
        "umount /proc; cat /proc/*/environ",
        "umount -l /proc; cat /proc/*/environ",
        "unshare --user --map-root-user --mount sh -c 'umount -l /proc; cat /proc/*/environ'",
        "unshare --user --mount sh -c 'umount -l /proc; cat /proc/*/environ'",
        "mkdir -p p && mount -t proc proc p; cat p/*/environ");
    for (String attempt : attempts) {
      CommandRunner.Result r = runId == null ? runner.run(dir, attempt)
          : runner.run(runId, dir, attempt);
      assertFalse(r.timedOut(), attempt);
      assertFalse(r.output().contains(marker),
          runner.isolation() + ": " + attempt + " read the node's environment");
    }

    // Only the command's own processes are visible (bwrap's init and its shell), not the node.
    String list = "echo $$; for p in /proc/[0-9]*; do echo \"${p#/proc/} $(tr '\\0' ' ' <"
        + " $p/cmdline)\"; done";
    CommandRunner.Result processes = runId == null ? runner.run(dir, list)
        : runner.run(runId, dir, list);
    List<String> lines = processes.output().lines().toList();
    assertEquals("2", lines.get(0), "the command's shell is PID 2 of a new namespace");
    assertEquals(2, lines.size() - 1, processes.output());
    assertTrue(lines.get(1).matches("1 bwrap .*"), lines.get(1));
    assertTrue(lines.get(2).matches("2 sh -c .*"), lines.get(2));
    // No JVM (the node) among them; bwrap's own arguments may name /etc/java-17-openjdk.
    assertFalse(lines.stream().anyMatch(l -> l.matches("\\d+ \\S*java\\S* .*")),
        processes.output());
  }

  @Test
  void withoutIsolationACommandReadsTheNodesEnvironment() {
    // The same read unconfined: the marker is there, so the test above can fail.
    CommandRunner.Result r = runner(Duration.ofSeconds(20), UNCONFINED)
        .run(dir, "cat /proc/$PPID/environ");
    assertTrue(r.output().contains(marker()), "without a namespace $PPID is the node");
  }

  @Test
  void theTimeoutKillsEveryProcessOfTheCommandDaemonsIncluded() {
    CommandRunner runner = runner(Duration.ofSeconds(1), Sandbox.defaults());
    // Unique durations name this test's processes in the machine's process list.
    String child = "300." + System.nanoTime() % 1_000_000_000L;
    String daemon = "301." + System.nanoTime() % 1_000_000_000L;
    CommandRunner.Result r = runner.run(dir,
        "setsid sh -c 'sleep " + daemon + " & exit' ; sh -c 'sleep " + child + " & wait'");
    assertTrue(r.timedOut());
    assertEquals(List.of(), running("sleep " + child), "the forked grandchild");
    assertEquals(List.of(), running("sleep " + daemon), "the daemon that left the tree");
  }

  private static List<String> running(String commandLine) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().orElse("").contains(commandLine))
        .filter(ProcessHandle::isAlive)
        .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
        .toList();
  }

  @Test
  void whereNoSandboxCanBeMadeCommandsAreRefusedAsAToolError() throws Exception {
    CommandRunner runner = runner(Duration.ofSeconds(5),
        new Sandbox(Sandbox.Settings.defaults(), "/nonexistent/tether-no-bwrap"));
    assertTrue(runner.isolation().startsWith("refused: "), runner.isolation());
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> runner.run(dir, "true"));
    assertTrue(refused.getMessage().contains("sandbox.mode = dangerously-unconfined"),
        refused.getMessage());

    WorkspaceTools tools = new WorkspaceTools(new WorkspaceToolsTest.MapStore(), dir, runner,
        new HttpProbe(Duration.ofSeconds(2), 1024, true), 4096, Executors.newCachedThreadPool());
    WorkspaceTools.Outcome outcome = tools.execute("r1", "generator",
        new ToolCall("c1", "run_command", "{\"command\": \"echo ran > ran.txt\"}"))
        .toCompletableFuture().get();
    assertTrue(outcome.error());
    assertTrue(outcome.output().startsWith("run_command failed: tools are refused"),
        outcome.output());
    assertFalse(dir.resolve("r1/ran.txt").toFile().exists());
  }

  @Test
  void onlyTheOperatorsExplicitChoiceRunsCommandsUnconfined() {
    CommandRunner runner = runner(Duration.ofSeconds(5), UNCONFINED);
    assertEquals("DANGEROUSLY UNCONFINED", runner.isolation());
    assertEquals("ok\n", runner.run(dir, "echo ok").output());
    assertEquals(Sandbox.Mode.BUBBLEWRAP, Sandbox.Settings.defaults().mode(),
        "confined unless configured otherwise");
    assertThrows(IllegalArgumentException.class, () -> Sandbox.Mode.fromConfig("auto"));
    assertThrows(IllegalArgumentException.class, () -> Sandbox.Mode.fromConfig("none"));
  }
}
