package io.tether.benchmarks.load.targets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Installs a directory's pinned npm packages ({@code npm ci} from its committed lock file) when
 * its {@code node_modules} is missing, logging into {@code log}. The peer server and the peer's
 * benchmark suite are installed this way, by the run itself.
 */
public final class NpmInstall {
  private NpmInstall() {}

  public static void ensure(Path dir, Path log) throws Exception {
    if (Files.isDirectory(dir.resolve("node_modules"))) {
      return;
    }
    Process ci = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    if (!ci.waitFor(5, TimeUnit.MINUTES) || ci.exitValue() != 0) {
      ci.destroyForcibly();
      throw new IllegalStateException("npm ci failed in " + dir + " (see " + log + ")");
    }
  }
}
