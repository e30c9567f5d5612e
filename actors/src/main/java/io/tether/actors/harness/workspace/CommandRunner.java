package io.tether.actors.harness.workspace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one shell command inside a workspace directory: {@code sh -c <command>} with the
 * directory as working directory, an environment scrubbed down to a fixed PATH, HOME and TMPDIR
 * inside the workspace, a timeout after which the command and its descendants are killed, and
 * an output cap (stdout and stderr merged) past which output is drained but dropped, and kernel
 * resource limits set by the shell before the command runs ({@link Limits}: CPU seconds, size
 * of any file written, open files). Blocking: call it on the tool dispatcher, never on an
 * actor's thread.
 */
public final class CommandRunner {

  /**
   * What a command did.
   *
   * @param exitCode the exit code, or -1 when it was killed for the timeout
   * @param output the merged output, capped
   * @param timedOut whether the timeout killed it
   * @param truncated whether output was dropped past the cap
   */
  public record Result(int exitCode, String output, boolean timedOut, boolean truncated) {

    /** The form tools hand to models: the exit code on the first line, then the output. */
    public String render() {
      return "exit_code=" + exitCode + (timedOut ? " (killed: timeout)" : "")
          + (truncated ? " (output truncated)" : "") + "\n" + output;
    }
  }

  /**
   * Per-command resource limits ({@code ulimit} in the command's shell, inherited by everything
   * it starts). A number of processes is not limited here: RLIMIT_NPROC counts every process of
   * the user (the JVM's threads included) and does not bind root; the timeout kills the whole
   * process tree instead.
   *
   * @param cpuSeconds CPU time the command may use (SIGXCPU past it); 0 for no limit
   * @param fileSizeBytes the largest file it may write (SIGXFSZ past it); 0 for no limit
   * @param openFiles file descriptors it may hold open; 0 for no limit
   */
  public record Limits(long cpuSeconds, long fileSizeBytes, int openFiles) {

    /** Two CPU minutes, 256 MiB files, 1024 open files. */
    public static Limits defaults() {
      return new Limits(120, 256L * 1024 * 1024, 1024);
    }

    /** The shell prefix that applies these limits ({@code ulimit -f} counts 512-byte blocks). */
    String shellPrefix() {
      StringBuilder prefix = new StringBuilder();
      if (cpuSeconds > 0) {
        prefix.append("ulimit -t ").append(cpuSeconds).append(" && ");
      }
      if (fileSizeBytes > 0) {
        prefix.append("ulimit -f ").append(Math.max(1, fileSizeBytes / 512)).append(" && ");
      }
      if (openFiles > 0) {
        prefix.append("ulimit -n ").append(openFiles).append(" && ");
      }
      return prefix.toString();
    }
  }

  private final Duration timeout;
  private final int maxOutputBytes;
  private final String path;
  private final Limits limits;

  /**
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path) {
    this(timeout, maxOutputBytes, path, Limits.defaults());
  }

  /**
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   * @param limits the kernel resource limits of each command
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path, Limits limits) {
    this.timeout = timeout;
    this.maxOutputBytes = maxOutputBytes;
    this.path = path;
    this.limits = limits;
  }

  /** Runs {@code command} in {@code dir} and waits for it, at most the timeout. */
  public Result run(Path dir, String command) {
    // The command travels as a positional argument, never spliced into the limits' script.
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", limits.shellPrefix() + "eval \"$1\"",
        "tether-command", command)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", path);
    env.put("HOME", dir.toString());
    env.put("TMPDIR", dir.toString());
    env.put("LANG", "C.UTF-8");
    try {
      Process process = pb.start();
      CappedReader reader = new CappedReader(process.getInputStream(), maxOutputBytes);
      Thread drain = new Thread(reader, "tether-command-output");
      drain.setDaemon(true);
      drain.start();
      boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
      drain.join(TimeUnit.SECONDS.toMillis(5));
      return new Result(finished ? process.exitValue() : -1, reader.text(), !finished,
          reader.truncated());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running a command", e);
    }
  }

  private static final class CappedReader implements Runnable {
    private final InputStream in;
    private final int cap;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private volatile boolean truncated;

    CappedReader(InputStream in, int cap) {
      this.in = in;
      this.cap = cap;
    }

    @Override
    public void run() {
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          synchronized (kept) {
            int room = cap - kept.size();
            if (room > 0) {
              kept.write(buf, 0, Math.min(room, n));
            }
            if (n > room) {
              truncated = true;
            }
          }
        }
      } catch (IOException ignored) {
        // The process was killed: what was read so far is the output.
      }
    }

    String text() {
      synchronized (kept) {
        return kept.toString(StandardCharsets.UTF_8);
      }
    }

    boolean truncated() {
      return truncated;
    }
  }
}
