package io.tether.actors.harness.workspace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.model.ToolSpec.Param;
import io.tether.actors.harness.model.ToolSpec.Type;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The tools roles use, acting on a run's workspace: {@code read_file}, {@code write_file},
 * {@code list_files}, {@code run_command}, {@code http_probe}. Before a tool runs, the durable
 * workspace is materialized into this node's local directory; {@code write_file} writes the
 * durable workspace first and the local copy after, so a write that completed survives any
 * node. Tools run on the given (blocking) executor and never throw: failures come back as an
 * error outcome the model can read.
 */
public final class WorkspaceTools {

  /** What a tool returned. */
  public record Outcome(String output, boolean error) {}

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
      "Run a shell command in the workspace directory; returns exit_code and output. Processes"
          + " it leaves in the background may be stopped when it returns: start a server and"
          + " send it its requests in the same command.",
      List.of(new Param("command", Type.STRING, "the command line, run with sh -c", true)));
  /** Probes HTTP on loopback. */
  public static final ToolSpec HTTP_PROBE = new ToolSpec("http_probe",
      "HTTP GET a URL on this machine (loopback only); returns the status and body.",
      List.of(new Param("url", Type.STRING, "e.g. http://127.0.0.1:8000/health", true)));

  private static final ObjectMapper JSON = new ObjectMapper();

  private final WorkspaceStore store;
  private final Path root;
  private final CommandRunner commands;
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
    this.store = store;
    this.root = root;
    this.commands = commands;
    this.probe = probe;
    this.maxReadBytes = maxReadBytes;
    this.executor = executor;
  }

  /** The local directory of a run's workspace on this node. */
  public LocalWorkspace local(String runId) {
    return locals.computeIfAbsent(runId, id -> new LocalWorkspace(root, id));
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
        outcome = validated(path)
            .thenCompose(p -> store.write(runId, p, content, author))
            .thenCompose(w -> materialized(runId).thenApplyAsync(local -> {
              local.writeFile(path, content);
              return new Outcome("wrote " + path + " (" + content.length()
                  + " characters, workspace version " + w.version() + ")", false);
            }, executor));
      }
      case "read_file" -> outcome = materialized(runId).thenApplyAsync(local ->
          new Outcome(local.readFile(args.path("path").asText(""), maxReadBytes), false), executor);
      case "list_files" -> outcome = materialized(runId).thenApplyAsync(local ->
          new Outcome(String.join("\n", local.list()), false), executor);
      case "run_command" -> outcome = materialized(runId).thenApplyAsync(local -> {
        CommandRunner.Result r = commands.run(local.dir(), args.path("command").asText(""));
        return new Outcome(r.render(), false);
      }, executor);
      case "http_probe" -> outcome = CompletableFuture.supplyAsync(
          () -> new Outcome(probe.get(args.path("url").asText("")), false), executor);
      default -> outcome = CompletableFuture.completedFuture(
          new Outcome("unknown tool: " + call.name(), true));
    }
    return outcome.exceptionally(e -> {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return new Outcome(call.name() + " failed: " + cause.getMessage(), true);
    });
  }

  private static CompletionStage<String> validated(String path) {
    try {
      return CompletableFuture.completedFuture(WorkspacePaths.validate(path));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private CompletionStage<LocalWorkspace> materialized(String runId) {
    return store.files(runId).thenApplyAsync(files -> {
      LocalWorkspace local = local(runId);
      local.materialize(files.files());
      return local;
    }, executor);
  }
}
