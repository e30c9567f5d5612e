package io.tether.benchmarks.load.targets;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Materializes one commit of the repository as a plain directory ({@code git archive}, no
 * worktree, nothing written into the repository), so Tether can be built and measured from
 * committed code while others edit the working tree. The directory is named by the commit and
 * reused, so a second run does not build again.
 */
public final class TetherSource {
  private TetherSource() {}

  /** The directory holding {@code ref}'s tree; its full commit id is the directory's suffix. */
  public static Path export(Path repo, String ref) throws Exception {
    String commit = git(repo, "rev-parse", "--verify", ref + "^{commit}");
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "tether-bench-src-" + commit);
    if (Files.isRegularFile(dir.resolve("tether"))) {
      return dir;
    }
    Path partial = Files.createTempDirectory("tether-bench-src-partial-");
    Process archive = new ProcessBuilder("sh", "-c",
        "git -C \"$0\" archive --format=tar \"$1\" | tar -x -C \"$2\"",
        repo.toString(), commit, partial.toString())
        .redirectErrorStream(true).start();
    String out = new String(archive.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!archive.waitFor(5, TimeUnit.MINUTES) || archive.exitValue() != 0) {
      DataDirs.delete(partial);
      throw new IllegalStateException("git archive " + commit + " failed: " + out);
    }
    Files.move(partial, dir);
    return dir;
  }

  static String git(Path repo, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("git", "-C", repo.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("git " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }
}
