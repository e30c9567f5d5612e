package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The long-lived processes of runs on this node ({@code start_process}, {@code stop_process}):
 * an app a role starts so that it can probe it over HTTP in later tool calls. Each is started by
 * {@link CommandRunner#start} (the same sandbox, scrubbed environment and kernel limits as
 * {@code run_command}) in the run's workspace and the run's network namespace, where the run's
 * later commands and probes reach it and nothing else does, and runs until the first of: {@code
 * stop_process}, the end of the task of the role that started it ({@link #stopOwnedBy}, called by
 * the role entity when a task completes, fails, is cancelled or superseded, and when the entity
 * stops), the lifetime cap, or the JVM's end. A run holds at most a fixed number of live
 * processes on a node; more are refused.
 *
 * <p>Dying with the node: every process is started from one thread that lives as long as the
 * JVM, under {@code setpriv --pdeathsig KILL}, so if the JVM dies in any way (SIGKILL included)
 * the kernel kills bwrap and {@code --die-with-parent} takes its PID namespace with it; a JVM
 * shutdown hook also kills them on an orderly exit. Unconfined ({@code sandbox.mode =
 * dangerously-unconfined}) a process that daemonized itself can outlive the node.
 *
 * <p>Blocking ({@link #start} waits for readiness, stopping waits for the exit): call it on the
 * tool dispatcher, never on an actor's thread.
 */
public final class ProcessSupervisor {

  private static final ScheduledExecutorService LIFETIMES =
      Executors.newSingleThreadScheduledExecutor(task -> {
        Thread t = new Thread(task, "tether-process-lifetime");
        t.setDaemon(true);
        return t;
      });
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }), "tether-process-shutdown"));
  }

  private static final Duration POLL = Duration.ofMillis(100);
  private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(250);

  private final CommandRunner runner;
  private final int maxPerRun;
  private final Duration maxLifetime;
  private final Duration maxStartWait;
  private final int maxOutputBytes;
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Managed> processes = new ConcurrentHashMap<>();

  /**
   * @param runner starts processes as it runs commands
   * @param maxPerRun live processes a run may hold on this node
   * @param maxLifetime how long a process may run before it is killed
   * @param maxStartWait the longest a start waits for the process to be ready
   * @param maxOutputBytes how much output a start or stop returns
   */
  public ProcessSupervisor(CommandRunner runner, int maxPerRun, Duration maxLifetime,
      Duration maxStartWait, int maxOutputBytes) {
    this.runner = runner;
    this.maxPerRun = maxPerRun;
    this.maxLifetime = maxLifetime;
    this.maxStartWait = maxStartWait;
    this.maxOutputBytes = maxOutputBytes;
  }

  /** A live process as {@link #running} describes it. */
  public record Info(String id, String owner, String command, long pid, Integer port) {}

  /**
   * Starts {@code command} for {@code owner} (a role) of run {@code runId} in {@code dir}. With a
   * port, returns once {@code 127.0.0.1:port} accepts a connection; without, once {@code wait}
   * has passed with the process still running. Either way at most {@code wait} (capped by the
   * supervisor's start limit); a process that exits first, or is not ready in time, is stopped
   * and the start fails with its output.
   *
   * @return the id, the pid and the first output
   * @throws IllegalStateException when the run is at its limit, the port is already taken, or
   *     the process exited or was not ready in time (a tool error)
   */
  public String start(String runId, String owner, Path dir, String command, Integer port,
      Duration wait) {
    if (command == null || command.isBlank()) {
      throw new IllegalArgumentException("command is required");
    }
    if (port != null && (port < 1 || port > 65535)) {
      throw new IllegalArgumentException("port must be 1..65535, not " + port);
    }
    Duration bounded = wait.compareTo(maxStartWait) > 0 ? maxStartWait
        : wait.isNegative() ? Duration.ZERO : wait;
    if (port != null && accepts(runId, port)) {
      throw new IllegalStateException("port " + port + " on 127.0.0.1 is already in use"
          + describeRunning(runId) + "; stop what holds it or pick another port");
    }
    Managed managed;
    synchronized (this) {
      processes.values().removeIf(m -> m.runId.equals(runId) && !m.process.isAlive());
      List<Managed> live = live(runId);
      if (live.size() >= maxPerRun) {
        throw new IllegalStateException("this run already has " + live.size() + " running"
            + " processes, its limit" + describeRunning(runId)
            + "; stop one with stop_process first");
      }
      Process process;
      try {
        process = runner.start(runId, dir, command).process();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting a process", e);
      }
      LIVE.add(process);
      managed = new Managed("p" + ids.incrementAndGet(), runId, owner, command, port, process,
          new OutputLog(process.getInputStream(), maxOutputBytes));
      processes.put(managed.id, managed);
      process.onExit().thenRun(() -> LIVE.remove(process));
      managed.lifetime = LIFETIMES.schedule(() -> {
        managed.killedBy = "lifetime cap of " + maxLifetime.toSeconds() + " s";
        kill(managed);
      }, maxLifetime.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    String failure = awaitReady(managed, bounded);
    if (failure != null) {
      stop(managed);
      processes.remove(managed.id);
      throw new IllegalStateException(failure + "\n" + managed.output.text());
    }
    return "started " + managed.id + " (pid " + managed.process.pid() + ")"
        + (port != null ? ", accepting on 127.0.0.1:" + port : ", running after "
            + bounded.toMillis() + " ms")
        + "; it runs until stop_process " + managed.id + ", the end of your task, or "
        + maxLifetime.toSeconds() + " s\n" + managed.output.text();
  }

  /**
   * Stops process {@code id} of run {@code runId} (the whole namespace it runs in) and waits
   * for it to be gone.
   *
   * @return its exit code and the output since it started, capped
   * @throws IllegalArgumentException when the run has no such process
   */
  public String stop(String runId, String id) {
    Managed managed = processes.get(id);
    if (managed == null || !managed.runId.equals(runId)) {
      throw new IllegalArgumentException("no process " + id + " in this run"
          + describeRunning(runId));
    }
    boolean wasAlive = managed.process.isAlive();
    stop(managed);
    processes.remove(id);
    return (wasAlive ? "stopped " + id : id + " had already exited with exit_code="
        + managed.process.exitValue()
        + (managed.killedBy != null ? " (killed: " + managed.killedBy + ")" : ""))
        + "\n" + managed.output.text();
  }

  /** Stops every process {@code owner} started in run {@code runId}; returns how many. */
  public int stopOwnedBy(String runId, String owner) {
    return stopAll(processes.values().stream()
        .filter(m -> m.runId.equals(runId) && m.owner.equals(owner)).toList());
  }

  /** Stops every process of run {@code runId}; returns how many. */
  public int stopRun(String runId) {
    return stopAll(processes.values().stream().filter(m -> m.runId.equals(runId)).toList());
  }

  /** The live processes of run {@code runId}, oldest first. */
  public List<Info> running(String runId) {
    return live(runId).stream()
        .map(m -> new Info(m.id, m.owner, m.command, m.process.pid(), m.port))
        .toList();
  }

  private int stopAll(List<Managed> targets) {
    targets.forEach(m -> {
      stop(m);
      processes.remove(m.id);
    });
    return targets.size();
  }

  private List<Managed> live(String runId) {
    return processes.values().stream()
        .filter(m -> m.runId.equals(runId) && m.process.isAlive())
        .sorted(Comparator.comparingLong(m -> Long.parseLong(m.id.substring(1))))
        .toList();
  }

  private String describeRunning(String runId) {
    List<Managed> live = live(runId);
    if (live.isEmpty()) {
      return "";
    }
    List<String> described = new ArrayList<>();
    for (Managed m : live) {
      described.add(m.id + (m.port != null ? " (port " + m.port + ")" : "") + ": " + m.command);
    }
    return " (running: " + String.join("; ", described) + ")";
  }

  /** Null once ready, else why not. */
  private String awaitReady(Managed managed, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    Process process = managed.process;
    while (true) {
      if (!process.isAlive()) {
        managed.output.awaitEnd();
        return managed.id + " exited with exit_code=" + process.exitValue() + " before it was"
            + " ready" + (managed.port == null ? "" : " (port " + managed.port + ")")
            + "; for a command that finishes, use run_command";
      }
      if (managed.port != null && accepts(managed.runId, managed.port)) {
        return null;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return managed.port == null ? null
            : managed.id + " did not accept connections on 127.0.0.1:" + managed.port
                + " within " + wait.toSeconds() + " s; it was stopped";
      }
      try {
        process.waitFor(Math.min(left, POLL.toNanos()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while waiting for " + managed.id;
      }
    }
  }

  /**
   * Whether something of run {@code runId} listens on {@code port}: in the run's network
   * namespace when sandboxed (the node's own ports are not the run's), on the node's loopback
   * when unconfined.
   */
  private boolean accepts(String runId, int port) {
    if (!runner.sandbox().unconfined()) {
      return runner.sandbox().networks().listening(runId, port);
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
          (int) CONNECT_TIMEOUT.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void stop(Managed managed) {
    kill(managed);
    managed.output.awaitEnd();
  }

  private static void kill(Managed managed) {
    ScheduledFuture<?> lifetime = managed.lifetime;
    if (lifetime != null) {
      lifetime.cancel(false);
    }
    try {
      CommandRunner.killTree(managed.process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class Managed {
    final String id;
    final String runId;
    final String owner;
    final String command;
    final Integer port;
    final Process process;
    final OutputLog output;
    volatile ScheduledFuture<?> lifetime;
    volatile String killedBy;

    Managed(String id, String runId, String owner, String command, Integer port,
        Process process, OutputLog output) {
      this.id = id;
      this.runId = runId;
      this.owner = owner;
      this.command = command;
      this.port = port;
      this.process = process;
      this.output = output;
    }
  }

  /** Drains a process's output for as long as it runs, keeping the first {@code cap} bytes. */
  private static final class OutputLog {
    private final byte[] kept;
    private int size;
    private boolean truncated;
    private final Thread drain;

    OutputLog(InputStream in, int cap) {
      this.kept = new byte[cap];
      this.drain = new Thread(() -> {
        byte[] buf = new byte[8192];
        try (in) {
          int n;
          while ((n = in.read(buf)) >= 0) {
            synchronized (this) {
              int room = kept.length - size;
              System.arraycopy(buf, 0, kept, size, Math.min(room, n));
              size += Math.min(room, n);
              truncated |= n > room;
            }
          }
        } catch (IOException ignored) {
          // The process was killed: what was read so far is the output.
        }
      }, "tether-process-output");
      drain.setDaemon(true);
      drain.start();
    }

    /** Waits (bounded) until the output has been read to its end. */
    void awaitEnd() {
      try {
        drain.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    synchronized String text() {
      return new String(kept, 0, size, StandardCharsets.UTF_8)
          + (truncated ? "\n[output truncated at " + kept.length + " bytes]" : "");
    }
  }
}
