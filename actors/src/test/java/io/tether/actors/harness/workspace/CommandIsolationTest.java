package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.workspace.CommandRunner.Isolation;
import io.tether.actors.harness.workspace.CommandRunner.Limits;
import io.tether.actors.harness.workspace.CommandRunner.Wrapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command cannot reach the node's own environment through {@code /proc}: the test JVM plays
 * the node, with a marker secret in its environment (set by surefire in the root pom), and real
 * commands try every way to it (the parent's environ, every environ, the process list, and
 * uncovering the node's {@code /proc} by unmounting the private one). Without isolation the
 * first of them does show the marker, so the test can fail. In a namespace the timeout still
 * kills the whole tree, daemons included, and a machine without namespaces either refuses
 * commands ({@code pid-namespace}) or runs them unisolated ({@code auto}).
 */
class CommandIsolationTest {

  private static final String MARKER_VARIABLE = "TETHER_TEST_PARENT_SECRET";
  private static final String PATH = "/usr/local/bin:/usr/bin:/bin";
  private static final Wrapper BROKEN =
      new Wrapper("broken", List.of("/nonexistent/tether-no-such-wrapper"));

  @TempDir Path dir;

  private static String marker() {
    String marker = System.getenv(MARKER_VARIABLE);
    assertTrue(marker != null && marker.length() >= 16, MARKER_VARIABLE
        + " must be in the test JVM's environment (the root pom's surefire environmentVariables)");
    return marker;
  }

  private static CommandRunner runner(Duration timeout, Isolation isolation) {
    return new CommandRunner(timeout, 64 * 1024, PATH, Limits.defaults(), isolation);
  }

  @Test
  void aCommandCannotReadTheNodesEnvironmentThroughProc() {
    String marker = marker();
    // The machine's choice first, then each wrapper on its own (as root only one is chosen).
    CommandRunner chosen = runner(Duration.ofSeconds(20), Isolation.PID_NAMESPACE);
    assertTrue(chosen.isolation().startsWith("pid-namespace"), chosen.isolation());
    List<String> tried = new ArrayList<>();
    for (Wrapper wrapper : List.of(CommandRunner.AS_ROOT, CommandRunner.IN_USER_NAMESPACE)) {
      CommandRunner runner = new CommandRunner(Duration.ofSeconds(20), 64 * 1024, PATH,
          Limits.defaults(), Isolation.PID_NAMESPACE, List.of(wrapper));
      if (!runner.isolation().equals("refused")) {
        assertNothingOfTheNodeIsVisible(runner, marker);
        tried.add(runner.isolation());
      }
    }
    assertTrue(tried.contains(chosen.isolation()), tried.toString());
  }

  private void assertNothingOfTheNodeIsVisible(CommandRunner runner, String marker) {
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
      CommandRunner.Result r = runner.run(dir, attempt);
      assertFalse(r.timedOut(), attempt);
      assertFalse(r.output().contains(marker),
          runner.isolation() + ": " + attempt + " read the node's environment");
    }

    // Only the command's own processes are visible (its init and its shell), not the node.
    CommandRunner.Result processes = runner.run(dir,
        "echo $$; for p in /proc/[0-9]*; do echo \"${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)\";"
            + " done");
    List<String> lines = processes.output().lines().toList();
    assertEquals("2", lines.get(0), "the command's shell is PID 2 of a new namespace");
    assertEquals(2, lines.size() - 1, processes.output());
    for (String line : lines.subList(1, lines.size())) {
      assertTrue(line.matches("[12] sh -c .*"), line);
    }
    assertFalse(processes.output().contains("java"), processes.output());
  }

  @Test
  void withoutIsolationACommandReadsTheNodesEnvironment() {
    // The same read with isolation off: the marker is there, so the test above can fail.
    CommandRunner.Result r = runner(Duration.ofSeconds(20), Isolation.NONE)
        .run(dir, "cat /proc/$PPID/environ");
    assertTrue(r.output().contains(marker()), "without a namespace $PPID is the node");
  }

  @Test
  void theTimeoutKillsEveryProcessOfTheCommandDaemonsIncluded() {
    CommandRunner runner = runner(Duration.ofSeconds(1), Isolation.PID_NAMESPACE);
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
  void requiredIsolationThatTheMachineCannotGiveRefusesCommandsAsAToolError() throws Exception {
    CommandRunner runner = new CommandRunner(Duration.ofSeconds(5), 4096, PATH,
        Limits.defaults(), Isolation.PID_NAMESPACE, List.of(BROKEN));
    assertEquals("refused", runner.isolation());
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> runner.run(dir, "true"));
    assertTrue(refused.getMessage().contains("command-isolation = pid-namespace"),
        refused.getMessage());

    WorkspaceTools tools = new WorkspaceTools(new WorkspaceToolsTest.MapStore(), dir, runner,
        new HttpProbe(Duration.ofSeconds(2), 1024, true), 4096, Executors.newCachedThreadPool());
    WorkspaceTools.Outcome outcome = tools.execute("r1", "generator",
        new ToolCall("c1", "run_command", "{\"command\": \"echo ran > ran.txt\"}"))
        .toCompletableFuture().get();
    assertTrue(outcome.error());
    assertTrue(outcome.output().startsWith("run_command failed: commands are refused"),
        outcome.output());
    assertFalse(dir.resolve("r1/ran.txt").toFile().exists());
  }

  @Test
  void autoRunsCommandsUnisolatedWhereTheMachineCannotIsolateThem() {
    CommandRunner runner = new CommandRunner(Duration.ofSeconds(5), 4096, PATH,
        Limits.defaults(), Isolation.AUTO, List.of(BROKEN));
    assertEquals("none", runner.isolation());
    assertEquals("ok\n", runner.run(dir, "echo ok").output());
  }
}
