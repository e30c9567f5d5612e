package io.tether.actors.harness.workspace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs one shell command for a run: {@code sh -c <command>} in the run's workspace directory,
 * confined by the {@link Sandbox} (bubblewrap: only the workspace writable, a minimal read-only
 * system, the run's own loopback-only network namespace, an unprivileged user without
 * capabilities, its own PID namespace), with an environment of only PATH, HOME and TMPDIR (the
 * workspace) and LANG, a timeout after which the command and its descendants are killed, an
 * output cap (stdout and stderr merged) past which output is drained but dropped, and kernel
 * resource limits set by the shell before the command runs ({@link Limits}: CPU seconds, size
 * of any file written, open files). Blocking: call it on the tool dispatcher, never on an
 * actor's thread.
 *
 * <p>The sandbox's PID namespace ends with the command: the processes it leaves in the
 * background are killed when it returns, and killing it on a timeout kills everything in it,
 * daemonized grandchildren included. Every command starts from the JVM-lifetime launcher thread
 * under a parent-death signal, so a command still running when its node dies dies with it.
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

  private static final Duration KILL_WAIT = Duration.ofSeconds(5);

  private final Duration timeout;
  private final int maxOutputBytes;
  private final String path;
  private final Limits limits;
  private final Sandbox sandbox;

  /**
   * In a sandbox with the default settings.
   *
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path) {
    this(timeout, maxOutputBytes, path, Limits.defaults());
  }

  /**
   * In a sandbox with the default settings.
   *
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   * @param limits the kernel resource limits of each command
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path, Limits limits) {
    this(timeout, maxOutputBytes, path, limits, Sandbox.defaults());
  }

  /**
   * @param timeout how long a command may run
   * @param maxOutputBytes how much output is kept
   * @param path the PATH commands get
   * @param limits the kernel resource limits of each command
   * @param sandbox what confines each command
   */
  public CommandRunner(Duration timeout, int maxOutputBytes, String path, Limits limits,
      Sandbox sandbox) {
    this.timeout = timeout;
    this.maxOutputBytes = maxOutputBytes;
    this.path = path;
    this.limits = limits;
    this.sandbox = sandbox;
  }

  /** What confines the commands. */
  public Sandbox sandbox() {
    return sandbox;
  }

  /** The confinement in force (see {@link Sandbox#describe}); waits for the sandbox's probe. */
  public String isolation() {
    return sandbox.describe();
  }

  /**
   * Runs {@code command} in {@code dir}, in a network namespace of its own (loopback only,
   * shared with nothing), and waits for it, at most the timeout.
   *
   * @throws IllegalStateException when the sandbox cannot be made here (a tool error)
   */
  public Result run(Path dir, String command) {
    return run(dir, command, Sandbox.PRIVATE_NETWORK);
  }

  /**
   * Runs {@code command} of run {@code runId} in {@code dir}, in the run's network namespace
   * (where its long-lived processes listen), and waits for it, at most the timeout.
   *
   * @throws IllegalStateException when the sandbox cannot be made here (a tool error)
   */
  public Result run(String runId, Path dir, String command) {
    if (sandbox.unconfined()) {
      return run(dir, command, Sandbox.PRIVATE_NETWORK);
    }
    sandbox.requireUsable();
    try (RunNetworks.Lease lease = sandbox.networks().acquire(runId)) {
      return run(dir, command, lease.network());
    }
  }

  private Result run(Path dir, String command, Sandbox.Network network) {
    try {
      Process process = Launcher.start(builder(dir, command, network));
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

  /** A long-lived process and its use of the run's network, to close when it has exited. */
  public record Started(Process process, AutoCloseable lease) {}

  /**
   * Starts {@code command} of run {@code runId} in {@code dir} exactly as {@link #run(String,
   * Path, String)} would (same sandbox, network, environment and limits, output merged) and
   * returns at once, for a long-lived process that {@link ProcessSupervisor} watches and stops.
   *
   * @throws IllegalStateException when the sandbox cannot be made here (a tool error)
   */
  Started start(String runId, Path dir, String command) throws IOException,
      InterruptedException {
    if (sandbox.unconfined()) {
      return new Started(Launcher.start(builder(dir, command, Sandbox.PRIVATE_NETWORK)), () -> {});
    }
    sandbox.requireUsable();
    RunNetworks.Lease lease = sandbox.networks().acquire(runId);
    try {
      Process process = Launcher.start(builder(dir, command, lease.network()));
      process.onExit().thenRun(lease::close);
      return new Started(process, lease);
    } catch (IOException | RuntimeException | InterruptedException e) {
      lease.close();
      throw e;
    }
  }

  /**
   * Starts a tool server of run {@code runId} (an MCP server speaking over its standard input
   * and output) in the same sandbox as a command: {@code dir} is its workspace, {@code mounts}
   * are further directories mounted read-only (its installation), {@code env} is its whole
   * environment (secrets included: passed through the process environment, never the argv),
   * and it joins the run's network, or the node's when {@code hostNetwork} (an operator's
   * choice for a server that calls out). Its standard error is kept apart from the protocol.
   *
   * @throws IllegalStateException when the sandbox cannot be made here (a tool error)
   */
  public Started startServer(String runId, Path dir, List<String> argv, Map<String, String> env,
      Map<Path, String> mounts, boolean hostNetwork) throws IOException, InterruptedException {
    if (sandbox.unconfined()) {
      ProcessBuilder pb = new ProcessBuilder(sandbox.argv(dir, null, Sandbox.PRIVATE_NETWORK, env,
          argv, mounts, true));
      pb.environment().clear();
      pb.environment().putAll(env);
      return new Started(Launcher.start(pb.directory(dir.toFile())), () -> {});
    }
    sandbox.requireUsable();
    RunNetworks.Lease lease = hostNetwork ? null : sandbox.networks().acquire(runId);
    try {
      ProcessBuilder pb = new ProcessBuilder(sandbox.argv(dir, null,
          lease == null ? Sandbox.HOST_NETWORK : lease.network(), env, argv, mounts, true));
      pb.environment().clear();
      pb.environment().putAll(env);
      Process process = Launcher.start(pb.directory(dir.toFile()));
      if (lease != null) {
        process.onExit().thenRun(lease::close);
      }
      return new Started(process, lease == null ? () -> {} : lease);
    } catch (IOException | RuntimeException | InterruptedException e) {
      if (lease != null) {
        lease.close();
      }
      throw e;
    }
  }

  private ProcessBuilder builder(Path dir, String command, Sandbox.Network network) {
    String home = sandbox.unconfined() ? dir.toString() : Sandbox.WORKSPACE;
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", path);
    env.put("HOME", home);
    env.put("TMPDIR", home);
    env.put("LANG", "C.UTF-8");
    List<String> argv = sandbox.argv(dir, network, env, List.of("sh", "-c",
        limits.shellPrefix() + "eval \"$1\"", "tether-command", command));
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().putAll(env);
    return pb.directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
  }

  /**
   * Kills the command and every process under it, and waits (bounded) until they are gone, so
   * nothing it started outlives the call. In the sandbox, the death of bwrap takes its PID
   * namespace down with it; unconfined, a process that left the tree (a daemon) escapes.
   *
   * <p>Only the command itself is this JVM's child. The processes under it are orphaned as they
   * die and stay zombies until the machine's init reaps them, which a container's init may do
   * seconds later (1.8 s per stopped process was measured on the CI machine), and
   * {@link ProcessHandle#onExit()} of a process that is not a child polls, sleeping 300 ms first.
   * A zombie runs nothing and holds no file or port, only its pid: it counts as gone here.
   */
  static void killTree(Process process) throws InterruptedException {
    ProcessHandle.Info info = process.info();
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroyForcibly();
    tree.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    process.waitFor(KILL_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    // Only now, with the killed process gone, is a fork it left behind an orphan.
    List<ProcessHandle> orphans = orphanedForks(info, process.pid());
    orphans.forEach(ProcessHandle::destroyForcibly);
    tree.addAll(orphans);
    while (tree.stream().anyMatch(CommandRunner::running) && System.nanoTime() < deadline) {
      Thread.sleep(10); // polling the kernel: these are not our children, nothing signals us
    }
  }

  /**
   * Processes forked from the killed one (the same command line, started after it) that were
   * not in the tree listed before the kill and are orphans now. bwrap forks its sandbox's init
   * and only then has the kernel tie that init's life to its own ({@code --die-with-parent} is a
   * {@code PR_SET_PDEATHSIG} set after the fork): killed inside that window, bwrap leaves the
   * init running, unlisted and unsignalled (seen about once in ten CI runs, when a test stopped a
   * process right after starting it).
   */
  static List<ProcessHandle> orphanedForks(ProcessHandle.Info killed, long killedPid) {
    Optional<String> commandLine = killed.commandLine();
    Optional<Instant> started = killed.startInstant();
    if (commandLine.isEmpty() || started.isEmpty()) {
      return List.of();
    }
    return ProcessHandle.allProcesses()
        .filter(p -> p.pid() != killedPid)
        .filter(p -> p.parent().map(ProcessHandle::pid).orElse(1L) == 1L)
        .filter(p -> {
          ProcessHandle.Info info = p.info(); // reads /proc once per process
          return info.commandLine().equals(commandLine)
              && info.startInstant().map(s -> !s.isBefore(started.get())).orElse(false);
        })
        .toList();
  }

  /** Alive and not a zombie ({@code /proc/<pid>/stat}'s state, where there is one). */
  static boolean running(ProcessHandle handle) {
    if (!handle.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return handle.isAlive(); // no procfs, or it is gone
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
