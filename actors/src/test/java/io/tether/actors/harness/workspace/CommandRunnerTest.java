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

  private final CommandRunner runner =
      new CommandRunner(Duration.ofSeconds(2), 1000, "/usr/local/bin:/usr/bin:/bin");

  @Test
  void runsInTheWorkspaceAndReportsTheExitCode() throws Exception {
    CommandRunner.Result r = runner.run(dir, "pwd; exit 3");
    assertEquals(3, r.exitCode());
    assertEquals(dir.toRealPath().toString(), r.output().trim());
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
    assertTrue(r.output().contains("HOME=" + dir));
  }
}
