package io.tether.actors.harness.workspace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.model.ToolSpec.Param;
import io.tether.actors.harness.model.ToolSpec.Type;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The tools roles use, acting on a run's workspace: {@code read_file}, {@code write_file},
 * {@code list_files}, {@code run_command}, {@code start_process}, {@code stop_process}, {@code
 * http_probe}. A command's background processes end with it; an app to probe across tool calls
 * is started with {@code start_process} ({@link ProcessSupervisor}) and stopped by {@code
 * stop_process}, by {@link #releaseProcesses} when the role's task ends, or by its lifetime cap.
 * Before a tool runs, the durable
 * workspace is materialized into this node's local directory; a file that cannot be put there
 * is reported in the tool's output and the tool runs anyway, so no workspace content can stop a
 * run. {@code write_file} checks the local path first (a path through a link is refused before
 * anything is recorded), then writes the durable workspace, then the local copy, so a write that
 * completed survives any node. Every process a tool starts, and every access to the local
 * directory, is confined by the {@link Sandbox}. Tools run on the given (blocking) executor and
 * never throw: failures come back as an error outcome the model can read.
 */
public final class WorkspaceTools {

  /**
   * What a tool returned.
   *
   * @param output what the model reads
   * @param error whether the tool failed
   * @param screenshots workspace paths of the images the tool saved (a browser's screenshots)
   */
  public record Outcome(String output, boolean error, List<String> screenshots) {

    public Outcome {
      screenshots = screenshots == null ? List.of() : List.copyOf(screenshots);
    }

    /** An outcome without screenshots. */
    public Outcome(String output, boolean error) {
      this(output, error, List.of());
    }
  }

  /** Reads a file. */
  public static final ToolSpec READ_FILE = new ToolSpec("read_file",
      "Read a text file of the workspace.",
      List.of(new Param("path", Type.STRING, "workspace-relative path", true)));
  /** Writes a file. */
  public static final ToolSpec WRITE_FILE = new ToolSpec("write_file",
      "Create or replace a text file of the workspace.",
      List.of(new Param("path", Type.STRING, "workspace-relative path", true),
          new Param("content", Type.STRING, "the whole new content", true)));
  /** Lists files. */
  public static final ToolSpec LIST_FILES = new ToolSpec("list_files",
      "List the files of the workspace with their sizes.", List.of());
  /** Runs a shell command. */
  public static final ToolSpec RUN_COMMAND = new ToolSpec("run_command",
      "Run a shell command in the workspace directory and wait for it; returns exit_code and"
          + " output. Processes it leaves in the background are stopped when it returns: to run"
          + " a server you then probe with http_probe, use start_process.",
      List.of(new Param("command", Type.STRING, "the command line, run with sh -c", true)));
  /** Starts a long-lived process. */
  public static final ToolSpec START_PROCESS = new ToolSpec("start_process",
      "Start a long-lived process (e.g. the app's server) in the workspace directory, confined"
          + " like run_command, and leave it running for http_probe and run_command calls that"
          + " follow. With a port, returns once 127.0.0.1:<port> accepts connections; without,"
          + " after wait_seconds. Returns the process id (p1, p2...) and its first output; fails"
          + " with the output if it exits first or is not ready in time. It runs until"
          + " stop_process, the end of your current task, or its lifetime cap; a run may hold a"
          + " few at once. Bind the server to 127.0.0.1 or 0.0.0.0.",
      List.of(new Param("command", Type.STRING, "the command line, run with sh -c, e.g."
              + " python3 -m http.server 8000 --bind 127.0.0.1", true),
          new Param("port", Type.INTEGER, "the TCP port on 127.0.0.1 it listens on when ready",
              false),
          new Param("wait_seconds", Type.INTEGER, "the longest to wait until it is ready"
              + " (default 30 with a port, 2 without)", false)));
  /** Stops a process {@code start_process} started. */
  public static final ToolSpec STOP_PROCESS = new ToolSpec("stop_process",
      "Stop a process start_process started (with everything it spawned); returns its output.",
      List.of(new Param("id", Type.STRING, "the id start_process returned, e.g. p1", true)));
  /** Probes HTTP on loopback. */
  public static final ToolSpec HTTP_PROBE = new ToolSpec("http_probe",
      "HTTP GET a URL from this run's own network (loopback: the processes this run started);"
          + " returns the status and body. Probe a server started with start_process.",
      List.of(new Param("url", Type.STRING, "e.g. http://127.0.0.1:8000/health", true)));

  private static final ObjectMapper JSON = new ObjectMapper();

  private final WorkspaceStore store;
  private final Path root;
  private final CommandRunner commands;
  private final ProcessSupervisor processes;
  private final HttpProbe probe;
  private final int maxReadBytes;
  private final Executor executor;
  private final Map<String, LocalWorkspace> locals = new ConcurrentHashMap<>();

  /**
   * @param store the durable workspaces
   * @param root the local directory under which each run's workspace is materialized
   * @param commands runs commands
   * @param probe probes HTTP
   * @param maxReadBytes how much of a file {@code read_file} returns
   * @param executor where tools run (blocking allowed)
   */
  public WorkspaceTools(WorkspaceStore store, Path root, CommandRunner commands, HttpProbe probe,
      int maxReadBytes, Executor executor) {
    this(store, root, commands, new ProcessSupervisor(commands, 3, Duration.ofMinutes(10),
        Duration.ofSeconds(60), 32 * 1024), probe, maxReadBytes, executor);
  }

  /**
   * @param store the durable workspaces
   * @param root the local directory under which each run's workspace is materialized
   * @param commands runs commands
   * @param processes starts and stops long-lived processes
   * @param probe probes HTTP
   * @param maxReadBytes how much of a file {@code read_file} returns
   * @param executor where tools run (blocking allowed)
   */
  public WorkspaceTools(WorkspaceStore store, Path root, CommandRunner commands,
      ProcessSupervisor processes, HttpProbe probe, int maxReadBytes, Executor executor) {
    this.store = store;
    this.root = root;
    this.commands = commands;
    this.processes = processes;
    this.probe = probe;
    this.maxReadBytes = maxReadBytes;
    this.executor = executor;
  }

  /**
   * The tools as configured under {@code tether.harness.workspace}: the sandbox, the command
   * runner, the process supervisor and the probe.
   */
  public static WorkspaceTools fromConfig(WorkspaceStore store, Config ws, Executor executor) {
    Sandbox sandbox = new Sandbox(Sandbox.Settings.fromConfig(ws.getConfig("sandbox")));
    CommandRunner commands = new CommandRunner(ws.getDuration("command-timeout"),
        (int) ws.getBytes("command-max-output-bytes").longValue(),
        ws.getString("command-path"),
        new CommandRunner.Limits(ws.getDuration("command-cpu-limit").toSeconds(),
            ws.getBytes("command-max-file-bytes"), ws.getInt("command-max-open-files")),
        sandbox);
    return new WorkspaceTools(store, Path.of(ws.getString("root")), commands,
        new ProcessSupervisor(commands, ws.getInt("max-processes-per-run"),
            ws.getDuration("max-process-lifetime"), ws.getDuration("process-start-timeout"),
            (int) ws.getBytes("command-max-output-bytes").longValue()),
        new HttpProbe(ws.getDuration("probe-timeout"),
            (int) ws.getBytes("probe-max-body-bytes").longValue(),
            ws.getBoolean("probe-loopback-only"), sandbox),
        (int) ws.getBytes("max-read-bytes").longValue(), executor);
  }

  /** The local directory of a run's workspace on this node. */
  public LocalWorkspace local(String runId) {
    return locals.computeIfAbsent(runId, id -> new LocalWorkspace(root, id, commands.sandbox()));
  }

  /** What confines the tools on this node. */
  public Sandbox sandbox() {
    return commands.sandbox();
  }

  /**
   * Whether {@code 127.0.0.1:port} accepts a TCP connection made from inside run {@code runId}'s
   * network on this node (sandboxed: its own namespace; unconfined: the node's loopback). Blocking.
   */
  public boolean accepts(String runId, int port) {
    Sandbox sandbox = commands.sandbox();
    List<String> connect =
        List.of("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$0", Integer.toString(port));
    try {
      if (sandbox.unconfined()) {
        return new ProcessBuilder(connect).start().waitFor() == 0;
      }
      try (RunNetworks.Lease lease = sandbox.networks().acquire(runId)) {
        ProcessBuilder pb = new ProcessBuilder(sandbox.argv(sandbox.emptyDir(), lease.network(),
            Map.of("PATH", "/usr/bin:/bin"), connect));
        pb.environment().clear();
        Process p = Launcher.start(pb.redirectErrorStream(true));
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        return p.waitFor() == 0;
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Whether run {@code runId}'s processes on this node may reach addresses beyond their own
   * loopback: its policy's decision, given with each of its tool calls (off unless set), and
   * granted only where the operator allows runs egress ({@code sandbox.allow-egress}). Only
   * records it, so an actor may call it; the run's network follows at its next tool call.
   */
  public void allowEgress(String runId, boolean allowed) {
    if (!commands.sandbox().unconfined()) {
      commands.sandbox().networks().allowEgress(runId,
          allowed && commands.sandbox().settings().allowEgress());
    }
  }

  /** Why a run policy that asks for egress is refused on this node, if it is. */
  public java.util.Optional<String> egressRefusal() {
    return commands.sandbox().unconfined() || commands.sandbox().settings().allowEgress()
        ? java.util.Optional.empty()
        : java.util.Optional.of("policy.egress: this node does not allow runs egress"
            + " (tether.harness.workspace.sandbox.allow-egress = off)");
  }

  /** The long-lived processes of this node. */
  public ProcessSupervisor processes() {
    return processes;
  }

  /**
   * Stops, in the background, every process {@code author} started in run {@code runId}: called
   * when that role's task ends (which every end of a run implies) and when its entity stops.
   * Safe to call from an actor.
   */
  public void releaseProcesses(String runId, String author) {
    CompletableFuture.runAsync(() -> processes.stopOwnedBy(runId, author), executor);
  }

  /** Runs one tool call for {@code author} in run {@code runId}. */
  public CompletionStage<Outcome> execute(String runId, String author, ToolCall call) {
    JsonNode args;
    try {
      args = JSON.readTree(call.argumentsJson() == null ? "{}" : call.argumentsJson());
    } catch (Exception e) {
      return CompletableFuture.completedFuture(
          new Outcome("arguments are not a JSON object: " + e.getMessage(), true));
    }
    CompletionStage<Outcome> outcome;
    switch (call.name()) {
      case "write_file" -> {
        String path = args.path("path").asText("");
        String content = args.path("content").asText("");
        // Checked against the local directory before anything is recorded durably: a refused
        // write must never become a file that every later materialization trips over.
        outcome = materialized(runId).thenComposeAsync(m -> {
          m.local().checkWritable(path);
          return store.write(runId, path, content, author).thenApplyAsync(w -> {
            m.local().writeFile(path, content);
            return m.outcome("wrote " + path + " (" + content.length()
                + " characters, workspace version " + w.version() + ")");
          }, executor);
        }, executor);
      }
      case "read_file" -> outcome = materialized(runId).thenApplyAsync(m ->
          m.outcome(m.local().readFile(args.path("path").asText(""), maxReadBytes)), executor);
      case "list_files" -> outcome = materialized(runId).thenApplyAsync(m ->
          m.outcome(String.join("\n", m.local().list())), executor);
      case "run_command" -> outcome = materialized(runId).thenApplyAsync(m -> {
        CommandRunner.Result r = commands.run(runId, m.local().dir(),
            args.path("command").asText(""));
        return m.outcome(r.render());
      }, executor);
      case "start_process" -> outcome = materialized(runId).thenApplyAsync(m -> {
        Integer port = args.hasNonNull("port") ? args.get("port").asInt() : null;
        Duration wait = Duration.ofSeconds(args.hasNonNull("wait_seconds")
            ? args.get("wait_seconds").asLong() : port != null ? 30 : 2);
        return m.outcome(processes.start(runId, author, m.local().dir(),
            args.path("command").asText(""), port, wait));
      }, executor);
      case "stop_process" -> outcome = CompletableFuture.supplyAsync(
          () -> new Outcome(processes.stop(runId, args.path("id").asText("")), false), executor);
      case "http_probe" -> outcome = CompletableFuture.supplyAsync(
          () -> new Outcome(probe.get(runId, args.path("url").asText("")), false), executor);
      default -> outcome = CompletableFuture.completedFuture(
          new Outcome("unknown tool: " + call.name(), true));
    }
    return outcome.exceptionally(e -> {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return new Outcome(call.name() + " failed: " + cause.getMessage(), true);
    });
  }

  /**
   * Run {@code runId}'s local workspace directory on this node, brought up to date with the
   * durable workspace (what cannot be restored is skipped, as for any tool).
   */
  public CompletionStage<Path> materializedDir(String runId) {
    return materialized(runId).thenApply(m -> m.local().dir());
  }

  /**
   * Starts a tool server for run {@code runId} in the run's sandbox with {@code dir} as its
   * workspace (see {@link CommandRunner#startServer}). Blocking: call it on the tool executor.
   */
  public CommandRunner.Started startServer(String runId, Path dir, List<String> argv,
      Map<String, String> env, Map<Path, String> mounts, boolean hostNetwork) {
    try {
      return commands.startServer(runId, dir, argv, env, mounts, hostNetwork);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting a tool server", e);
    }
  }

  /** The durable workspaces. */
  public WorkspaceStore store() {
    return store;
  }

  /** The executor tools run on (blocking allowed). */
  public Executor executor() {
    return executor;
  }

  /** The local workspace after materializing, and what could not be materialized. */
  private record Materialized(LocalWorkspace local, List<String> problems) {
    /** A successful outcome, preceded by a note on the files that could not be restored. */
    Outcome outcome(String output) {
      if (problems.isEmpty()) {
        return new Outcome(output, false);
      }
      return new Outcome("[workspace: " + problems.size() + " durable file(s) could not be"
          + " restored here and were skipped: " + String.join("; ", problems) + "]\n" + output,
          false);
    }
  }

  private CompletionStage<Materialized> materialized(String runId) {
    return store.files(runId).thenApplyAsync(files -> {
      LocalWorkspace local = local(runId);
      List<String> problems;
      try {
        problems = local.materialize(files.files());
      } catch (RuntimeException e) {
        // Never fatal: the tool still runs, on what the directory holds.
        problems = List.of("the workspace could not be brought up to date: " + e.getMessage());
      }
      return new Materialized(local, problems);
    }, executor);
  }
}
