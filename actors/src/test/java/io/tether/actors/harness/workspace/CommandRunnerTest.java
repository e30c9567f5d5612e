package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands run in the workspace, with a timeout, an output cap and a scrubbed environment. */
class CommandRunnerTest {

  @TempDir Path dir;

  @org.junit.jupiter.api.BeforeEach
  void reachableByTheSandbox() throws Exception {
    Sandboxes.reachable(dir);
  }

  private final CommandRunner runner =
      new CommandRunner(Duration.ofSeconds(2), 1000, "/usr/local/bin:/usr/bin:/bin");

  @Test
  void runsInTheWorkspaceAndReportsTheExitCode() throws Exception {
    java.nio.file.Files.writeString(dir.resolve("here.txt"), "in the workspace");
    CommandRunner.Result r = runner.run(dir, "pwd; cat here.txt; exit 3");
    assertEquals(3, r.exitCode());
    assertEquals("/workspace\nin the workspace", r.output().trim(),
        "the workspace is mounted at /workspace, the working directory");
    assertTrue(r.render().startsWith("exit_code=3\n"));
  }

  @Test
  void killsACommandThatOutlivesItsTimeout() {
    long start = System.nanoTime();
    CommandRunner.Result r = runner.run(dir, "sleep 30");
    assertTrue(r.timedOut());
    assertEquals(-1, r.exitCode());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 15);
  }

  @Test
  void capsTheOutput() {
    CommandRunner.Result r = runner.run(dir, "yes tether | head -c 100000");
    assertTrue(r.truncated());
    assertEquals(1000, r.output().length());
  }

  @Test
  void scrubsTheEnvironment() {
    // The test JVM's own environment (HOME, USER, anything secret) must not reach a command.
    CommandRunner.Result r = runner.run(dir, "env");
    assertFalse(r.output().contains("USER="), r.output());
    assertTrue(r.output().contains("PATH=/usr/local/bin:/usr/bin:/bin"));
    assertTrue(r.output().contains("HOME=/workspace"), r.output());
  }

  @Test
  void aZombieIsNotRunningSoAStoppedTreeDoesNotWaitForInitToReapIt() throws Exception {
    // sh starts a short sleep in the background and then becomes a long one (exec), which never
    // waits for it: the short sleep ends as a zombie whose parent lives on. After a kill, every
    // process under a command's own is such a zombie until init reaps it, seconds later in a
    // container (1.8 s per stopped process on the CI machine).
    Process parent = new ProcessBuilder("sh", "-c", "sleep 0.05 & exec sleep 30").start();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      ProcessHandle zombie = null;
      while (zombie == null) {
        assertTrue(System.nanoTime() < deadline, "the short sleep never became a zombie");
        zombie = parent.children().filter(h -> state(h) == 'Z').findFirst().orElse(null);
        Thread.sleep(10); // polling the kernel: nothing tells a JVM about a grandchild's exit
      }
      assertTrue(zombie.isAlive(), "the JDK counts a zombie as alive (why killTree reads /proc)");
      assertFalse(CommandRunner.running(zombie));
      assertTrue(CommandRunner.running(parent.toHandle()));

      CommandRunner.killTree(parent);
      assertFalse(parent.isAlive());
      assertFalse(CommandRunner.running(zombie));
    } finally {
      parent.destroyForcibly();
    }
  }

  private static char state(ProcessHandle handle) {
    try {
      String stat = java.nio.file.Files.readString(Path.of("/proc/" + handle.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (java.io.IOException e) {
      return '?';
    }
  }
}
