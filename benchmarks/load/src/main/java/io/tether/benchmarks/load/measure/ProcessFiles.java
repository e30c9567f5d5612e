package io.tether.benchmarks.load.measure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Open file descriptors of a process and its limit, from {@code /proc} (Linux): every socket a
 * server holds is one, so the count before and while holding connections shows from outside
 * that the server really kept them, and the limit says how many it could.
 */
public final class ProcessFiles {
  private ProcessFiles() {}

  /** Descriptors open now ({@code /proc/<pid>/fd}), or empty when unknown or not readable. */
  public static OptionalLong open(OptionalLong pid) {
    if (pid.isEmpty()) {
      return OptionalLong.empty();
    }
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid.getAsLong()), "fd"))) {
      return OptionalLong.of(fds.count());
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** The soft limit on open files ({@code Max open files} in {@code /proc/<pid>/limits}). */
  public static OptionalLong limit(OptionalLong pid) {
    if (pid.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      for (String line : Files.readAllLines(
          Path.of("/proc", Long.toString(pid.getAsLong()), "limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? OptionalLong.of(Long.MAX_VALUE)
              : OptionalLong.of(Long.parseLong(soft));
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /** This JVM's pid. */
  public static OptionalLong self() {
    return OptionalLong.of(ProcessHandle.current().pid());
  }
}
