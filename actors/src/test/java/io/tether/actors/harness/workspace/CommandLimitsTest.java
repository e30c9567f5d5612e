package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command tool's kernel limits and its isolation from the node: CPU time and file size are
 * capped by the kernel (well before the timeout), open files are limited, the command text is
 * passed verbatim (never spliced into the limits' script), and no variable of the node's
 * environment (where API keys live) reaches a command. The commands run in the sandbox;
 * {@link CommandIsolationTest} shows they cannot read the node's environment from {@code /proc}
 * either, and {@link HostileModelTest} what else they cannot reach.
 */
class CommandLimitsTest {
  @TempDir Path dir;

  // In the sandbox, as in production: the limits must hold inside it.
  private final CommandRunner runner = new CommandRunner(Duration.ofSeconds(60), 4096,
      "/usr/local/bin:/usr/bin:/bin", new CommandRunner.Limits(1, 1024 * 1024, 64),
      Sandbox.defaults());

  @org.junit.jupiter.api.BeforeEach
  void reachableByTheSandbox() throws Exception {
    Sandboxes.reachable(dir);
    // The sandbox's user writes here, as in a run's workspace.
    Files.setAttribute(dir, "unix:uid", Sandbox.defaults().workspaceUid());
  }

  @Test
  void aBusyLoopIsStoppedByItsCpuLimitLongBeforeTheTimeout() {
    long start = System.nanoTime();
    CommandRunner.Result r = runner.run(dir, "while :; do :; done");
    assertFalse(r.timedOut(), "the CPU limit, not the 60 s timeout, ended it");
    assertNotEquals(0, r.exitCode());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 45);
  }

  @Test
  void aFileCannotGrowPastTheFileSizeLimit() throws Exception {
    CommandRunner.Result r = runner.run(dir, "head -c 5000000 /dev/zero > big.bin");
    assertNotEquals(0, r.exitCode());
    assertTrue(Files.size(dir.resolve("big.bin")) <= 1024 * 1024);
  }

  @Test
  void openFilesAreLimitedAndTheCommandTextIsPassedVerbatim() {
    CommandRunner.Result r = runner.run(dir, "ulimit -n; echo \"a  b\" 'c $1' && echo $0");
    assertEquals("64\na  b c $1\ntether-command\n", r.output());
  }

  @Test
  void noVariableOfTheNodesEnvironmentReachesACommand() {
    Set<String> allowed = Set.of("PATH", "HOME", "TMPDIR", "LANG", "PWD", "SHLVL", "_", "OLDPWD");
    String env = "\n" + runner.run(dir, "env").output();
    for (Map.Entry<String, String> variable : System.getenv().entrySet()) {
      if (!allowed.contains(variable.getKey())) {
        assertFalse(env.contains("\n" + variable.getKey() + "="), variable.getKey() + " leaked");
        assertTrue(variable.getValue().length() < 16 || !env.contains(variable.getValue()),
            "the value of " + variable.getKey()
            + " leaked");
      }
    }
  }
}
