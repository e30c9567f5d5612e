package io.tether.actors.harness.workspace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The local directory of one run's workspace on this node: {@code <root>/<runId>}, owned by the
 * sandbox's user. The node never opens a path inside it itself: the directory belongs to the
 * run's processes, which could swap a file for a link or a FIFO between a check and a use, so
 * every read, write and listing is done by a small shell helper in the run's sandbox (where a
 * link can only lead to the workspace or the read-only minimal system). The helper copies files
 * the node staged in a directory of its own, mounted read-only.
 *
 * <p>Materializing copies every durable file whose content this node has not yet put there (on
 * a node that never saw the run: all of them) and that differs locally, so the directory is at
 * least as new as the workspace version it was given; what a command changed or created locally
 * is left alone until that file is written durably again. A file that cannot be put there (its
 * path runs through a link, or is a directory) is skipped and reported, never fatal.
 */
public final class LocalWorkspace {

  private static final Duration HELPER_TIMEOUT = Duration.ofSeconds(30);
  private static final String PATH = "/usr/bin:/bin";

  /**
   * Checks that workspace path {@code $1} (already validated: relative, no {@code .}, {@code ..}
   * or empty segment) runs through no link that leads out of the workspace {@code $W} and is a
   * regular file if it exists; prints why and returns 3 if not.
   */
  private static final String CHECK = "check() { set -f; cur=.; old=$IFS; IFS=/;"
      + " for c in $1; do cur=$cur/$c;"
      + " if [ -L \"$cur\" ]; then t=$(realpath -m -- \"$cur\"); case \"$t\" in \"$W\"/*) ;;"
      + " *) echo \"$1: refusing to write through a link that leads out of the workspace ($c)\";"
      + " IFS=$old; return 3;; esac; fi; done; IFS=$old;"
      + " if [ -e \"$cur\" ] && [ ! -f \"$cur\" ]; then echo \"$1: not a regular file\";"
      + " return 3; fi; return 0; }; ";

  /** Copies staged file {@code $i} of the manifest to its path unless it is already there. */
  private static final String COPY = CHECK + "W=$2; "
      + "i=0; while IFS= read -r p; do i=$((i+1));"
      + " if [ -f \"$p\" ] && [ ! -L \"$p\" ] && cmp -s -- \"$1/$i\" \"$p\"; then"
      + " echo \"ok $p\"; continue; fi;"
      + " if out=$(check \"$p\"); then"
      + " d=${p%/*}; if [ \"$d\" != \"$p\" ]; then mkdir -p -- \"$d\" 2>/dev/null; fi;"
      + " if cat -- \"$1/$i\" > \"$p\" 2>/dev/null; then echo \"ok $p\";"
      + " else echo \"failed $p: cannot write it\"; fi;"
      + " else echo \"failed $out\"; fi; done < \"$1/manifest\"";

  /**
   * Reads {@code $1} (at most {@code $3} bytes) if its real path, resolved as far as it exists,
   * is inside {@code $2}: exit 4 for a link that leads out, 3 for no such file.
   */
  private static final String READ = "r=$(realpath -m -- \"$1\");"
      + " case \"$r\" in \"$2\"/*) ;; *) echo \"$1 leads out of the workspace through a link\" >&2;"
      + " exit 4;; esac; [ -f \"$r\" ] || { echo \"no such file: $1\" >&2; exit 3; };"
      + " exec head -c \"$3\" -- \"$r\"";

  /** Every regular file (links not followed) with its size. */
  private static final String LIST = "find . -type f -printf '%P (%s bytes)\\n' | LC_ALL=C sort";

  private final Path dir;
  private final Sandbox sandbox;
  private final Map<String, String> materialized = new HashMap<>();

  /** The directory of {@code runId} under {@code root}, in the default sandbox. */
  public LocalWorkspace(Path root, String runId) {
    this(root, runId, Sandbox.defaults());
  }

  /** The directory of {@code runId} under {@code root}; created (for the sandbox) if missing. */
  public LocalWorkspace(Path root, String runId, Sandbox sandbox) {
    if (!runId.matches("[A-Za-z0-9_.-]+") || runId.startsWith(".")) {
      throw new IllegalArgumentException("run ids are letters, digits, ., - and _: " + runId);
    }
    this.sandbox = sandbox;
    try {
      // Searchable, not listable: the sandbox mounts a run's directory by its path.
      if (!Files.isDirectory(root)) {
        Files.createDirectories(root,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
      } else if (sandbox.workspaceUid() >= 0 && !Files.getPosixFilePermissions(root)
          .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
      }
      Path made = root.resolve(runId);
      if (Files.isSymbolicLink(made)) {
        throw new IllegalStateException("the workspace directory is a link: " + made);
      }
      this.dir = Files.createDirectories(made).toRealPath();
      sandbox.requireReachable(dir);
      giveToSandbox();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Makes the directory the sandbox user's. A directory the node made for an older version
   * (files of the node's user) is handed over whole, once, before any sandboxed process of the
   * run runs on this node; links are changed, never followed.
   */
  private void giveToSandbox() throws IOException {
    int uid = sandbox.workspaceUid();
    if (uid < 0 || ((Number) Files.getAttribute(dir, "unix:uid")).intValue() == uid) {
      return;
    }
    int gid = sandbox.workspaceGid();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      }
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  /** The directory. */
  public Path dir() {
    return dir;
  }

  /**
   * Brings the directory up to the given durable files.
   *
   * @return one line per file that could not be put there (and why); empty when all were
   */
  public synchronized List<String> materialize(Map<String, String> files) {
    Map<String, String> pending = new LinkedHashMap<>();
    files.forEach((path, content) -> {
      if (!hash(content).equals(materialized.get(path))) {
        pending.put(path, content);
      }
    });
    if (pending.isEmpty()) {
      return List.of();
    }
    List<String> problems = new ArrayList<>();
    Map<String, String> valid = new LinkedHashMap<>();
    pending.forEach((path, content) -> {
      try {
        valid.put(WorkspacePaths.validate(path), content);
      } catch (WorkspacePaths.PathEscapeException e) {
        problems.add(path + ": " + e.getMessage());
      }
    });
    for (String line : copy(valid).lines().toList()) {
      if (line.startsWith("ok ")) {
        String path = line.substring(3);
        materialized.put(path, hash(valid.get(path)));
      } else if (line.startsWith("failed ")) {
        problems.add(line.substring(7));
      }
    }
    return problems;
  }

  /**
   * Refuses a write to {@code path} before anything is recorded: the path must be valid and
   * must not run through a link or name something other than a regular file.
   *
   * @throws WorkspacePaths.PathEscapeException when it may not be written
   */
  public void checkWritable(String path) {
    WorkspacePaths.validate(path);
    Helper h = helper(null, CHECK + "W=$2; check \"$1\"", List.of(path, inside()), null);
    if (h.exitCode() != 0) {
      throw new WorkspacePaths.PathEscapeException(h.out().isBlank() ? "cannot write " + path
          : h.out().strip());
    }
  }

  /** Writes one file locally. */
  public synchronized void writeFile(String path, String content) {
    List<String> problems = copyAndRecord(Map.of(WorkspacePaths.validate(path), content));
    if (!problems.isEmpty()) {
      throw new WorkspacePaths.PathEscapeException(problems.get(0));
    }
  }

  private List<String> copyAndRecord(Map<String, String> files) {
    List<String> problems = new ArrayList<>();
    for (String line : copy(files).lines().toList()) {
      if (line.startsWith("ok ")) {
        String path = line.substring(3);
        materialized.put(path, hash(files.get(path)));
      } else if (line.startsWith("failed ")) {
        problems.add(line.substring(7));
      }
    }
    return problems;
  }

  /** Reads one file, at most {@code maxBytes} of it. */
  public String readFile(String path, int maxBytes) {
    WorkspacePaths.validate(path);
    Helper h = helper(null, READ, List.of(path, inside(), Integer.toString(maxBytes + 1)), null);
    if (h.exitCode() == 4) {
      throw new WorkspacePaths.PathEscapeException(h.err().strip());
    }
    if (h.exitCode() != 0) {
      throw new IllegalArgumentException(h.err().isBlank() ? "cannot read " + path
          : h.err().strip());
    }
    byte[] bytes = h.bytes();
    String text = new String(bytes, 0, Math.min(bytes.length, maxBytes), StandardCharsets.UTF_8);
    return bytes.length > maxBytes ? text + "\n[truncated at " + maxBytes + " bytes]" : text;
  }

  /** The workspace directory as its processes see it. */
  private String inside() {
    return sandbox.unconfined() ? dir.toString() : Sandbox.WORKSPACE;
  }

  /** Every regular file, as workspace paths with sizes, sorted; links are not followed. */
  public List<String> list() {
    Helper h = helper(null, LIST, List.of(), null);
    if (h.exitCode() != 0) {
      throw new IllegalStateException("cannot list the workspace: " + h.err().strip());
    }
    return h.out().lines().filter(l -> !l.isBlank()).toList();
  }

  /** Stages {@code files} in a directory of the node's and has the helper copy them in. */
  private String copy(Map<String, String> files) {
    if (files.isEmpty()) {
      return "";
    }
    Path staging = null;
    try {
      staging = sandbox.newStaging();
      StringBuilder manifest = new StringBuilder();
      int i = 0;
      for (Map.Entry<String, String> f : files.entrySet()) {
        Files.writeString(staging.resolve(Integer.toString(++i)), f.getValue(),
            StandardCharsets.UTF_8);
        manifest.append(f.getKey()).append('\n');
      }
      Files.writeString(staging.resolve("manifest"), manifest, StandardCharsets.UTF_8);
      String mounted = sandbox.unconfined() ? staging.toString() : Sandbox.STAGING;
      Helper h = helper(staging, COPY, List.of(mounted, inside()), null);
      if (h.exitCode() != 0 && h.out().isBlank()) {
        throw new IllegalStateException("could not write the workspace: " + h.err().strip());
      }
      return h.out();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (staging != null) {
        Sandbox.deleteTree(staging);
      }
    }
  }

  private record Helper(int exitCode, byte[] bytes, String err) {
    String out() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** Runs {@code script} with {@code args} in the run's sandbox (no network) and waits. */
  private Helper helper(Path staging, String script, List<String> args, byte[] input) {
    List<String> command = new ArrayList<>(List.of("sh", "-c", script, "tether-workspace"));
    command.addAll(args);
    Map<String, String> env = Map.of("PATH", PATH, "LANG", "C.UTF-8");
    ProcessBuilder pb = new ProcessBuilder(sandbox.argv(dir, staging, Sandbox.PRIVATE_NETWORK,
        env, command)).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    try {
      Process process = Launcher.start(pb);
      try (OutputStream in = process.getOutputStream()) {
        if (input != null) {
          in.write(input);
        }
      }
      CompletableFuture<byte[]> out = drain(process.getInputStream());
      CompletableFuture<byte[]> err = drain(process.getErrorStream());
      if (!process.waitFor(HELPER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        CommandRunner.killTree(process);
        throw new IllegalStateException("the workspace did not answer within "
            + HELPER_TIMEOUT.toSeconds() + " s (a FIFO or a device where a file was expected?)");
      }
      return new Helper(process.exitValue(), out.join(),
          new String(err.join(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static CompletableFuture<byte[]> drain(InputStream in) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (in) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        result.complete(all.toByteArray());
      } catch (IOException e) {
        result.complete(new byte[0]);
      }
    }, "tether-workspace-helper");
    t.setDaemon(true);
    t.start();
    return result;
  }

  private static String hash(String content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(content.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
