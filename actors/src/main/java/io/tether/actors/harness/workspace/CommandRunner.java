package io.tether.actors.harness.workspace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one shell command inside a workspace directory: {@code sh -c <command>} with the
 * directory as working directory, an environment scrubbed down to a fixed PATH, HOME and TMPDIR
 * inside the workspace, a timeout after which the command and its descendants are killed, and
 * an output cap (stdout and stderr merged) past which output is drained but dropped, and kernel
 * resource limits set by the shell before the command runs ({@link Limits}: CPU seconds, size
 * of any file written, open files). Blocking: call it on the tool dispatcher, never on an
 * actor's thread.
 *
 * <p>A command runs as the node's user, so a scrubbed environment alone does not keep the
 * node's own environment (provider API keys) from it: {@code /proc/<node pid>/environ} is
 * readable by the same user. Unless {@link Isolation} says otherwise, each command therefore runs
 * in its own PID namespace with a private {@code /proc} ({@code unshare --pid --fork --mount-proc
 * --kill-child}, inside a user namespace when the node is not root), where the only processes
 * are the command's own, and with every capability dropped ({@code setpriv}), so it cannot
 * unmount that {@code /proc} to uncover the node's. The namespace ends with the command: the
 * processes it leaves in the background are killed when it returns, and killing the namespace
 * on a timeout kills everything in it, daemonized grandchildren included. Whether the machine
 * allows this is probed once, in the background from construction; the outcome is logged.
 */
public final class CommandRunner {

  private static final Logger log = LoggerFactory.getLogger(CommandRunner.class);

  /** Whether commands run in their own PID namespace (config: {@code command-isolation}). */
  public enum Isolation {
    /** A PID namespace when the machine allows one; otherwise none, with a WARN. */
    AUTO,
    /** Always a PID namespace: commands are refused (a tool error) when none can be made. */
    PID_NAMESPACE,
    /** None: a command can read the node's environment from {@code /proc}. */
    NONE;

    /** Parses a config value: {@code auto}, {@code pid-namespace} or {@code none}. */
    public static Isolation fromConfig(String value) {
      for (Isolation i : values()) {
        if (i.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(value)) {
          return i;
        }
      }
      throw new IllegalArgumentException("command-isolation must be auto, pid-namespace or none,"
          + " not " + value);
    }
  }

  /** A way to put a command in its own PID namespace: the argv placed before it. */
  record Wrapper(String name, List<String> prefix) {}

  /** As root: a PID and mount namespace, capabilities dropped before the command starts. */
  static final Wrapper AS_ROOT = new Wrapper("pid-namespace (root)", wrapper(List.of()));
  /** Unprivileged: the same inside a user namespace where the node's user maps to root. */
  static final Wrapper IN_USER_NAMESPACE = new Wrapper("pid-namespace (user namespace)",
      wrapper(List.of("--user", "--map-root-user")));

  private static List<String> wrapper(List<String> userNamespace) {
    List<String> argv = new ArrayList<>(List.of("unshare"));
    argv.addAll(userNamespace);
    // --kill-child: the namespace's init dies with unshare, and the kernel then kills every
    // process in the namespace, so killing unshare on a timeout kills the whole tree.
    argv.addAll(List.of("--pid", "--fork", "--mount-proc", "--kill-child", "--",
        // Without CAP_SYS_ADMIN the command cannot unmount the private /proc (which would
        // uncover the node's) nor mount another view of the node's processes.
        "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--",
        // The command is never PID 1, which ignores signals it has no handler for.
        "sh", "-c", "\"$@\"; exit $?", "tether-init"));
    return List.copyOf(argv);
  }

  /** The isolation in force, or why commands are refused. */
  private record Launch(String isolation, List<String> prefix, String refusal) {}

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

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration KILL_WAIT = Duration.ofSeconds(5);

  private final Duration timeout;
  private final int maxOutputBytes;
  private final String path;
  private final Limits limits;
  private final CompletableFuture<Launch> launch;

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
    this(timeout, maxOutputBytes, path, limits, Isolation.AUTO);
  }

  /**
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   * @param limits the kernel resource limits of each command
   * @param isolation whether each command runs in its own PID namespace
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path, Limits limits,
      Isolation isolation) {
    this(timeout, maxOutputBytes, path, limits, isolation, List.of(AS_ROOT, IN_USER_NAMESPACE));
  }

  /** With the namespace wrappers to try, in order (tests pass one that cannot work). */
  CommandRunner(Duration timeout, int maxOutputBytes, String path, Limits limits,
      Isolation isolation, List<Wrapper> wrappers) {
    this.timeout = timeout;
    this.maxOutputBytes = maxOutputBytes;
    this.path = path;
    this.limits = limits;
    // Probing starts a process: never on the caller's (possibly an actor's) thread.
    this.launch = CompletableFuture.supplyAsync(() -> resolve(isolation, wrappers), task -> {
      Thread probe = new Thread(task, "tether-command-isolation-probe");
      probe.setDaemon(true);
      probe.start();
    });
  }

  /**
   * The isolation in force ({@code none}, {@code pid-namespace (root)}, {@code pid-namespace
   * (user namespace)}), or {@code refused} when commands are refused; waits for the probe.
   */
  public String isolation() {
    Launch l = launch();
    return l.refusal() != null ? "refused" : l.isolation();
  }

  /**
   * Runs {@code command} in {@code dir} and waits for it, at most the timeout.
   *
   * @throws IllegalStateException when isolation is required and the machine cannot provide it
   */
  public Result run(Path dir, String command) {
    Launch l = launch();
    if (l.refusal() != null) {
      throw new IllegalStateException(l.refusal());
    }
    try {
      // Started like a long-lived process, so a command dies with its node too (a node killed
      // mid-command left the command's namespace running forever: found leaked by the tests).
      Process process = startFromLauncher(dir, command);
      CappedReader reader = new CappedReader(process.getInputStream(), maxOutputBytes);
      Thread drain = new Thread(reader, "tether-command-output");
      drain.setDaemon(true);
      drain.start();
      boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        killTree(process);
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

  /**
   * Starts {@code command} in {@code dir} exactly as {@link #run} would (same isolation, scrubbed
   * environment and limits, output merged) and returns at once, for a long-lived process that
   * {@link ProcessSupervisor} watches and stops. In a PID namespace the wrapper is itself put
   * under {@code setpriv --pdeathsig KILL}: when the thread that started it dies (the JVM, since
   * the supervisor starts every process from one thread that lives as long as the JVM), the
   * kernel kills unshare and, through {@code --kill-child}, the whole namespace.
   *
   * @throws IllegalStateException when isolation is required and the machine cannot provide it
   */
  Process start(Path dir, String command) throws IOException {
    return startNow(dir, command);
  }

  /**
   * The thread every command and process is started from: the parent-death signal of {@code
   * setpriv --pdeathsig} follows the thread that forked, so it must live as long as the JVM.
   */
  private static final java.util.concurrent.ExecutorService LAUNCHER =
      java.util.concurrent.Executors.newSingleThreadExecutor(task -> {
        Thread t = new Thread(task, "tether-process-launcher");
        t.setDaemon(true);
        return t;
      });

  /** {@link #start} on the JVM-lifetime launcher thread (see {@link #LAUNCHER}). */
  Process startFromLauncher(Path dir, String command) throws IOException, InterruptedException {
    try {
      return LAUNCHER.submit(() -> startNow(dir, command)).get();
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(cause);
    }
  }

  private Process startNow(Path dir, String command) throws IOException {
    Launch l = launch();
    if (l.refusal() != null) {
      throw new IllegalStateException(l.refusal());
    }
    List<String> argv = new ArrayList<>();
    if (!l.prefix().isEmpty()) {
      argv.addAll(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    }
    argv.addAll(l.prefix());
    argv.addAll(List.of("sh", "-c", limits.shellPrefix() + "eval \"$1\"", "tether-command",
        command));
    return scrubbed(new ProcessBuilder(argv), dir)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
  }

  private ProcessBuilder scrubbed(ProcessBuilder pb, Path home) {
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", path);
    env.put("HOME", home.toString());
    env.put("TMPDIR", home.toString());
    env.put("LANG", "C.UTF-8");
    return pb;
  }

  /**
   * Kills the command and every process under it, and waits (bounded) until they are gone, so
   * nothing it started outlives the call. In a PID namespace, unshare's death takes the
   * namespace down with it; without one, a process that left the tree (a daemon) escapes.
   */
  static void killTree(Process process) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroyForcibly();
    tree.forEach(ProcessHandle::destroyForcibly);
    tree.add(process.toHandle());
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    for (ProcessHandle handle : tree) {
      try {
        handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // The wait is bounded; the kill was already sent.
      }
    }
  }

  private Launch launch() {
    try {
      return launch.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while probing command isolation", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("probing command isolation failed", e.getCause());
    }
  }

  private Launch resolve(Isolation isolation, List<Wrapper> wrappers) {
    if (isolation == Isolation.NONE) {
      log.info("Commands run without process isolation (command-isolation = none): a command"
          + " can read this node's environment, API keys included, from /proc/<pid>/environ");
      return new Launch("none", List.of(), null);
    }
    List<String> failures = new ArrayList<>();
    for (Wrapper wrapper : wrappers) {
      String failure = probe(wrapper);
      if (failure == null) {
        log.info("Commands run in their own PID namespace with a private /proc and no"
            + " capabilities: {}", wrapper.name());
        return new Launch(wrapper.name(), wrapper.prefix(), null);
      }
      failures.add(wrapper.name() + ": " + failure);
    }
    String why = String.join("; ", failures);
    if (isolation == Isolation.PID_NAMESPACE) {
      String refusal = "commands are refused: command-isolation = pid-namespace, but this"
          + " machine cannot run a command in its own PID namespace (" + why + ")";
      log.error("{}. Allow unprivileged user namespaces or run the node as root, or set"
          + " command-isolation = auto or none", refusal);
      return new Launch("none", List.of(), refusal);
    }
    log.warn("Commands run WITHOUT process isolation (command-isolation = auto, and this machine"
        + " cannot make a PID namespace: {}): a command can read this node's environment, API"
        + " keys included, from /proc/<node pid>/environ, and its output reaches the run's"
        + " session. Allow unprivileged user namespaces, run the node as root, or set"
        + " command-isolation = pid-namespace to refuse commands instead", why);
    return new Launch("none", List.of(), null);
  }

  /**
   * Runs a shell in the wrapper that checks it is PID 2 of a new namespace (its init is 1):
   * null when that works, else why not.
   */
  private String probe(Wrapper wrapper) {
    List<String> argv = new ArrayList<>(wrapper.prefix());
    argv.addAll(List.of("sh", "-c", "test $$ -eq 2"));
    Path cwd = Path.of("/");
    ProcessBuilder pb = scrubbed(new ProcessBuilder(argv), cwd)
        .directory(cwd.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    try {
      Process process = pb.start();
      if (!process.waitFor(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        killTree(process);
        return "no answer within " + PROBE_TIMEOUT.toSeconds() + " s";
      }
      String output = new String(process.getInputStream().readAllBytes(),
          StandardCharsets.UTF_8).strip();
      return process.exitValue() == 0 ? null
          : "exit code " + process.exitValue() + (output.isEmpty() ? "" : ", " + output);
    } catch (IOException e) {
      return e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
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
