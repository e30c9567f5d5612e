package io.tether.benchmarks.load.measure;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The heap a server JVM still uses after a full collection, asked from outside with
 * {@code jcmd <pid> GC.run} and {@code GC.heap_info} (the attach mechanism, as the same user).
 * RSS keeps heap the collector has not returned to the system, so it is only an upper bound; the
 * live heap after a collection is what the server really retains. Only for a JVM target (Tether);
 * empty for anything else or when {@code jcmd} does not answer.
 */
public final class JvmHeap {
  private static final Pattern USED = Pattern.compile("heap\\s+total\\s+\\d+K,\\s+used\\s+(\\d+)K");

  private JvmHeap() {}

  /** Runs a full collection in {@code pid}, then returns its used heap in bytes. */
  public static OptionalLong usedAfterFullGc(OptionalLong pid) {
    if (pid.isEmpty() || !isJvm(pid.getAsLong())) {
      return OptionalLong.empty();
    }
    if (jcmd(pid.getAsLong(), "GC.run").isEmpty()) {
      return OptionalLong.empty();
    }
    return jcmd(pid.getAsLong(), "GC.heap_info").map(out -> {
      Matcher m = USED.matcher(out);
      return m.find() ? OptionalLong.of(Long.parseLong(m.group(1)) * 1024) : OptionalLong.empty();
    }).orElse(OptionalLong.empty());
  }

  /**
   * The live-object histogram of {@code pid} ({@code jcmd GC.class_histogram}, which collects
   * first), or empty: where the heap goes, for finding what a connection costs.
   */
  public static Optional<String> histogram(OptionalLong pid) {
    if (pid.isEmpty() || !isJvm(pid.getAsLong())) {
      return Optional.empty();
    }
    return jcmd(pid.getAsLong(), "GC.class_histogram");
  }

  /**
   * The first {@code n} rows of a class histogram as "class bytes", biggest first, e.g.
   * {@code "[B 12.3 MB"}.
   */
  public static java.util.List<String> top(String histogram, int n) {
    java.util.List<String> rows = new java.util.ArrayList<>();
    Pattern row = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
    for (String line : histogram.split("\n")) {
      Matcher m = row.matcher(line);
      if (m.find() && rows.size() < n) {
        rows.add(m.group(3) + String.format(java.util.Locale.ROOT, " %.1f MB (%,d instances)",
            Long.parseLong(m.group(2)) / 1e6, Long.parseLong(m.group(1))));
      }
    }
    return rows;
  }

  private static boolean isJvm(long pid) {
    return ProcessHandle.of(pid).flatMap(h -> h.info().command())
        .map(c -> c.endsWith("/java")).orElse(false);
  }

  private static Optional<String> jcmd(long pid, String command) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return Optional.empty();
    }
    try {
      Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return Optional.of(out);
    } catch (Exception e) {
      return Optional.empty();
    }
  }
}
