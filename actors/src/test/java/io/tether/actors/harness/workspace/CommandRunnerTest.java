package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

  @Test
  void aForkOrphanedBeforeTheKillIsKilledWithItsTree() throws Exception {
    // What bwrap leaves when it is killed between forking its sandbox's init and tying that
    // init's life to its own: a fork of the killed process (the same command line), orphaned,
    // not in the tree listed before the kill. Here: the process forks a middle one that forks the
    // orphan-to-be and exits, and then waits.
    String token = "orphaned-fork-" + System.nanoTime();
    Process parent = new ProcessBuilder("python3", "-c", """
        import os, sys, time
        middle = os.fork()
        if middle == 0:
            if os.fork() == 0:
                time.sleep(300)
            os._exit(0)
        os.waitpid(middle, 0)
        time.sleep(300)
        """, token).start();
    ProcessHandle orphan = null;
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (orphan == null) {
        assertTrue(System.nanoTime() < deadline, "the fork was not orphaned");
        orphan = ProcessHandle.allProcesses()
            .filter(h -> h.pid() != parent.pid())
            .filter(h -> h.info().commandLine().map(c -> c.contains(token)).orElse(false))
            .filter(h -> h.parent().map(ProcessHandle::pid).orElse(-1L) == 1L)
            .filter(CommandRunner::running)
            .findFirst().orElse(null);
        Thread.sleep(10); // polling the kernel: nothing tells a JVM about a grandchild's fork
      }
      assertEquals(List.of(), parent.descendants().toList(), "the orphan is outside the tree");

      CommandRunner.killTree(parent);
      assertFalse(CommandRunner.running(orphan), "the orphaned fork outlived the kill");
    } finally {
      parent.destroyForcibly();
      if (orphan != null) {
        orphan.destroyForcibly();
      }
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
