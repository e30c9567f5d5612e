package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The local directory of one run's workspace on this node: {@code <root>/<runId>}. Materializing
 * writes every durable file whose local content differs, so the directory is at least as new as
 * the workspace version it was given; files a command created locally are left alone. All access
 * goes through {@link WorkspacePaths#resolve}.
 */
public final class LocalWorkspace {

  private final Path dir;

  /** The directory of {@code runId} under {@code root}; created if missing. */
  public LocalWorkspace(Path root, String runId) {
    if (!runId.matches("[A-Za-z0-9_.-]+") || runId.startsWith(".")) {
      throw new IllegalArgumentException("run ids are letters, digits, ., - and _: " + runId);
    }
    try {
      Files.createDirectories(root);
      this.dir = Files.createDirectories(root.resolve(runId)).toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The directory. */
  public Path dir() {
    return dir;
  }

  /** Brings the directory up to the given durable files. */
  public synchronized void materialize(Map<String, String> files) {
    files.forEach((path, content) -> {
      try {
        Path target = WorkspacePaths.resolve(dir, path);
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
            && Files.readString(target, StandardCharsets.UTF_8).equals(content)) {
          return;
        }
        write(target, content);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** Writes one file locally. */
  public synchronized void writeFile(String path, String content) {
    try {
      write(WorkspacePaths.resolve(dir, path), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads one file, at most {@code maxBytes} of it. */
  public String readFile(String path, int maxBytes) {
    Path target = WorkspacePaths.resolve(dir, path);
    try {
      if (!Files.isRegularFile(target)) {
        throw new IllegalArgumentException("no such file: " + path);
      }
      byte[] bytes = Files.readAllBytes(target);
      String text = new String(bytes, 0, Math.min(bytes.length, maxBytes), StandardCharsets.UTF_8);
      return bytes.length > maxBytes ? text + "\n[truncated at " + maxBytes + " bytes]" : text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every regular file, as workspace paths with sizes, sorted; links are not followed. */
  public List<String> list() {
    List<String> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .sorted()
          .forEach(p -> {
            try {
              out.add(dir.relativize(p).toString().replace('\\', '/') + " (" + Files.size(p)
                  + " bytes)");
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static void write(Path target, String content) throws IOException {
    if (Files.isSymbolicLink(target)) {
      throw new WorkspacePaths.PathEscapeException("refusing to write through a link: " + target);
    }
    Files.createDirectories(target.getParent());
    Files.writeString(target, content, StandardCharsets.UTF_8);
  }
}
