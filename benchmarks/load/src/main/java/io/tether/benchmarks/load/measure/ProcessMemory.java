package io.tether.benchmarks.load.measure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads a process's resident set size from {@code /proc/<pid>/status} (Linux). This is the
 * outside view of a server's memory: for a JVM it includes heap the collector has not returned,
 * so deltas are an upper bound on what the server really retains.
 */
public final class ProcessMemory {
  private ProcessMemory() {}

  /**
   * RSS of the process and every process it started (for Tether: the node and its local
   * Cassandra), or empty when the pid is unknown or gone.
   */
  public static OptionalLong rssWithChildren(OptionalLong pid) {
    OptionalLong own = rssBytes(pid);
    if (own.isEmpty()) {
      return own;
    }
    long total = own.getAsLong();
    for (ProcessHandle child : ProcessHandle.of(pid.getAsLong())
        .map(h -> h.descendants().toList()).orElse(java.util.List.of())) {
      total += rssBytes(OptionalLong.of(child.pid())).orElse(0);
    }
    return OptionalLong.of(total);
  }

  /** RSS in bytes, or empty when the pid is unknown or gone. */
  public static OptionalLong rssBytes(OptionalLong pid) {
    OptionalLong kb = statusField(pid, "VmRSS:");
    return kb.isPresent() ? OptionalLong.of(kb.getAsLong() * 1024) : kb;
  }

  /** The process's thread count ({@code Threads:}), or empty when unknown. */
  public static OptionalLong threads(OptionalLong pid) {
    return statusField(pid, "Threads:");
  }

  /** The leading number of a {@code /proc/<pid>/status} line, or empty. */
  private static OptionalLong statusField(OptionalLong pid, String field) {
    if (pid.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      Path status = Path.of("/proc", Long.toString(pid.getAsLong()), "status");
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith(field)) {
          return OptionalLong.of(Long.parseLong(
              line.substring(field.length()).trim().split("\\s+")[0]));
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }
}
