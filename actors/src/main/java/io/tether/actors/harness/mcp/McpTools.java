package io.tether.actors.harness.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.task.ToolGrant;
import io.tether.actors.harness.workspace.CommandRunner;
import io.tether.actors.harness.workspace.WorkspaceTools;
import io.tether.actors.harness.workspace.WorkspaceTools.Outcome;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MCP tools of this node: the servers configured under {@code tether.harness.mcp} (and the
 * built-in browser), the connections of each run's roles to them, and their tool calls.
 *
 * <p>A role's connection to a server is opened at its first call in a task (or to list the
 * server's tools the first time this node offers them), kept for the task's later calls (the browser keeps its page), and
 * closed by {@link #release} when the task ends (a stdio server's process, in the run's sandbox,
 * is killed with everything it started; it also dies with the node). Calls go through the MCP
 * Java SDK's synchronous client on the tool executor, never on an actor's thread. What a call
 * returns becomes the tool's output ({@link McpResults}): text as text, and images (a browser's
 * screenshots) saved into the run's durable workspace, named in the output.
 */
public final class McpTools {

  private static final Logger log = LoggerFactory.getLogger(McpTools.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Where the SDK's blocking calls wait, apart from the tool executor that waits on them. */
  private static final Executor CALLS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "tether-mcp-call");
    t.setDaemon(true);
    return t;
  });

  private final Map<String, McpServerSpec> servers;
  private final Map<String, String> unavailable;
  private final WorkspaceTools tools;
  private final Function<String, String> environment;
  private final Duration callTimeout;
  private final Duration startTimeout;
  private final int maxOutputChars;
  private final String path;
  private final Map<String, Connection> connections = new ConcurrentHashMap<>();
  /**
   * Each server's tools as it last listed them: a model call offers them without starting the
   * server, which then starts at the role's first call of one (a contract review never starts
   * a browser).
   */
  private final Map<String, List<McpSchema.Tool>> catalog = new ConcurrentHashMap<>();

  /**
   * @param servers the servers by name
   * @param unavailable servers that are configured but cannot run here, with why
   * @param tools the workspace tools (sandbox, workspace, executor)
   * @param environment the node's environment, for the servers' secrets
   * @param callTimeout the longest one tool call may take
   * @param startTimeout the longest a server may take to start and answer initialize
   * @param maxOutputChars how much of a call's text the model gets
   * @param path the PATH of a stdio server's sandbox
   */
  public McpTools(Map<String, McpServerSpec> servers, Map<String, String> unavailable,
      WorkspaceTools tools, Function<String, String> environment, Duration callTimeout,
      Duration startTimeout, int maxOutputChars, String path) {
    this.servers = Map.copyOf(servers);
    this.unavailable = Map.copyOf(unavailable);
    this.tools = tools;
    this.environment = environment;
    this.callTimeout = callTimeout;
    this.startTimeout = startTimeout;
    this.maxOutputChars = maxOutputChars;
    this.path = path;
  }

  /** No MCP servers at all. */
  public static McpTools none() {
    return new McpTools(Map.of(), Map.of(), null, name -> null, Duration.ofSeconds(1),
        Duration.ofSeconds(1), 1, "/usr/bin:/bin");
  }

  /**
   * The servers of {@code tether.harness.mcp} ({@code mcp}, the block), the browser when its
   * installation is there.
   */
  public static McpTools fromConfig(Config mcp, WorkspaceTools tools,
      Function<String, String> environment, String path) {
    Map<String, McpServerSpec> servers = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    Config configured = mcp.getConfig("servers");
    for (String name : configured.root().keySet()) {
      servers.put(name, McpServerSpec.fromConfig(name, configured.getConfig(name)));
    }
    String dir = mcp.getString("browser.dir");
    Path browserDir = dir.isBlank() ? null : Path.of(dir).toAbsolutePath();
    String missing = McpServerSpec.browserMissing(browserDir);
    if (missing == null && tools != null) {
      String unreachable = tools.sandbox().unreachable(browserDir);
      if (unreachable != null) {
        missing = "the sandbox user cannot reach the browser's installation " + browserDir + ": "
            + unreachable + " (install the project where others may search its directories, or"
            + " set TETHER_BROWSER_DIR to a copy there)";
      }
    }
    if (missing == null) {
      servers.put("browser", McpServerSpec.browser(browserDir));
      log.info("The browser MCP server (Playwright MCP, headless Chromium) is installed in {}",
          browserDir);
    } else {
      unavailable.put("browser", missing);
      if (browserDir == null) {
        log.info("No browser for runs on this node: {}", missing);
      } else {
        log.warn("No browser for runs on this node: {}", missing);
      }
    }
    return new McpTools(servers, unavailable, tools, environment,
        mcp.getDuration("call-timeout"), mcp.getDuration("start-timeout"),
        (int) mcp.getBytes("max-output-bytes").longValue(), path);
  }

  /** Why {@code server} cannot be attached to a run here, or empty when it can. */
  public Optional<String> refusal(String server) {
    if (servers.containsKey(server)) {
      return Optional.empty();
    }
    return Optional.of(unavailable.getOrDefault(server, "no MCP server named " + server
        + " is configured (tether.harness.mcp.servers" + (servers.isEmpty() ? ""
            : "; known: " + String.join(", ", servers.keySet())) + ")"));
  }

  /** The servers that can run here. */
  public Set<String> servers() {
    return servers.keySet();
  }

  /** The server of {@code grants} that {@code exposedName} would belong to, if any. */
  public Optional<ToolGrant> grantFor(List<ToolGrant> grants, String exposedName) {
    return grants.stream().filter(g -> servers.containsKey(g.server())
            && servers.get(g.server()).mayExpose(exposedName))
        .findFirst();
  }

  /**
   * The tools {@code grants} give role {@code role} of run {@code runId}, as the model sees
   * them; a server that cannot be reached is left out (and logged), never fails the call.
   */
  public CompletionStage<List<ToolSpec>> specs(String runId, String role,
      List<ToolGrant> grants) {
    if (grants.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return CompletableFuture.supplyAsync(() -> {
      List<ToolSpec> out = new ArrayList<>();
      for (ToolGrant grant : grants) {
        McpServerSpec spec = servers.get(grant.server());
        if (spec == null) {
          continue;
        }
        try {
          List<McpSchema.Tool> listed = catalog.get(spec.name());
          if (listed == null) {
            listed = connection(runId, role, spec).tools;
          }
          for (McpSchema.Tool tool : listed) {
            if (grant.allows(tool.name()) || grant.allows(spec.exposed(tool.name()))) {
              out.add(new ToolSpec(spec.exposed(tool.name()),
                  tool.description() == null ? tool.name() : tool.description(), List.of(),
                  JSON.writeValueAsString(tool.inputSchema() == null
                      ? Map.of("type", "object") : tool.inputSchema())));
            }
          }
        } catch (Exception e) {
          log.warn("Run {}: the tools of MCP server {} are not offered to the {}: {}", runId,
              spec.name(), role, e.getMessage());
        }
      }
      return List.copyOf(out);
    }, tools.executor());
  }

  /**
   * Calls the MCP tool {@code call} names for role {@code role} of run {@code runId}, within
   * {@code grants}; the outcome is an error (never an exception) when it is not allowed, the
   * server fails, or the call times out. Images in the result are saved in the workspace as
   * {@code screenshots/<label>-<n>.png} ({@link McpResults}).
   */
  public CompletionStage<Outcome> call(String runId, String role, String label,
      List<ToolGrant> grants, ToolCall call) {
    Optional<ToolGrant> grant = grantFor(grants, call.name());
    if (grant.isEmpty()) {
      return CompletableFuture.completedFuture(new Outcome("unknown tool: " + call.name(), true));
    }
    McpServerSpec spec = servers.get(grant.get().server());
    return CompletableFuture.supplyAsync(() -> {
      Connection c = connection(runId, role, spec);
      McpSchema.Tool tool = c.tools.stream()
          .filter(t -> spec.exposed(t.name()).equals(call.name())).findFirst().orElse(null);
      if (tool == null) {
        return new Outcome("MCP server " + spec.name() + " has no tool " + call.name(), true);
      }
      if (!grant.get().allows(tool.name()) && !grant.get().allows(call.name())) {
        return new Outcome("the " + role + " may not use the tool " + call.name()
            + " (not in this run's allow-list for " + spec.name() + ")", true);
      }
      Map<String, Object> arguments;
      try {
        arguments = JSON.readValue(call.argumentsJson() == null || call.argumentsJson().isBlank()
            ? "{}" : call.argumentsJson(), Map.class);
      } catch (Exception e) {
        return new Outcome("arguments are not a JSON object: " + e.getMessage(), true);
      }
      McpSchema.CallToolResult result = c.call(new McpSchema.CallToolRequest(tool.name(),
          arguments));
      return McpResults.outcome(result, runId, label, call.id(), tools.store(),
          maxOutputChars);
    }, tools.executor()).exceptionally(e -> {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return new Outcome(call.name() + " failed: " + cause.getMessage(), true);
    });
  }

  /** Closes, in the background, every connection of role {@code role} in run {@code runId}. */
  public void release(String runId, String role) {
    String prefix = runId + "/" + role + "/";
    List<Connection> closing = new ArrayList<>();
    connections.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(prefix)) {
        closing.add(e.getValue());
        return true;
      }
      return false;
    });
    if (!closing.isEmpty() && tools != null) {
      CompletableFuture.runAsync(() -> closing.forEach(Connection::close), tools.executor());
    }
  }

  private Connection connection(String runId, String role, McpServerSpec spec) {
    String key = runId + "/" + role + "/" + spec.name();
    Connection existing = connections.get(key);
    if (existing != null && existing.alive()) {
      return existing;
    }
    if (existing != null) {
      connections.remove(key, existing);
      existing.close();
    }
    synchronized (this) {
      Connection again = connections.get(key);
      if (again != null && again.alive()) {
        return again;
      }
      Connection opened = open(runId, role, spec);
      connections.put(key, opened);
      return opened;
    }
  }

  private Connection open(String runId, String role, McpServerSpec spec) {
    JacksonMcpJsonMapper mapper = new JacksonMcpJsonMapper(new ObjectMapper());
    McpClientTransport transport;
    CommandRunner.Started started = null;
    ProcessTransport stdio = null;
    if (spec.stdio()) {
      Map<String, String> env = new LinkedHashMap<>();
      env.put("PATH", path);
      env.put("HOME", "/workspace");
      env.put("TMPDIR", "/tmp");
      env.put("LANG", "C.UTF-8");
      env.putAll(McpServerSpec.resolve(spec.env(), environment, spec.name()));
      Path dir = tools.materializedDir(runId).toCompletableFuture().join();
      started = tools.startServer(runId, dir, spec.command(), env, spec.mounts(),
          spec.hostNetwork());
      stdio = new ProcessTransport(started.process(), mapper, spec.name() + "-" + runId);
      transport = stdio;
    } else {
      URI uri = URI.create(spec.url());
      HttpRequest.Builder request = HttpRequest.newBuilder();
      McpServerSpec.resolve(spec.headers(), environment, spec.name()).forEach(request::header);
      String base = uri.getScheme() + "://" + uri.getRawAuthority();
      transport = HttpClientStreamableHttpTransport.builder(base)
          .endpoint(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/"
              : uri.getRawPath())
          .requestBuilder(request)
          .jsonMapper(mapper)
          .connectTimeout(startTimeout)
          .build();
    }
    McpSyncClient client = McpClient.sync(transport)
        .requestTimeout(callTimeout)
        .initializationTimeout(startTimeout)
        .clientInfo(new McpSchema.Implementation("tether", "1"))
        .build();
    Connection c = new Connection(spec.name(), client, started, stdio);
    try {
      c.start();
      log.info("Run {}: the {} opened MCP server {} ({} tools)", runId, role, spec.name(),
          c.tools.size());
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw new IllegalStateException("MCP server " + spec.name() + " did not start: "
          + e.getMessage() + (stdio != null ? stdio.stderrTail() : ""), e);
    }
  }

  /** One role's connection to one server. */
  private final class Connection {
    final String server;
    final McpSyncClient client;
    final CommandRunner.Started process;
    final ProcessTransport stdio;
    volatile List<McpSchema.Tool> tools = List.of();

    Connection(String server, McpSyncClient client, CommandRunner.Started process,
        ProcessTransport stdio) {
      this.server = server;
      this.client = client;
      this.process = process;
      this.stdio = stdio;
    }

    void start() {
      guarded(() -> {
        client.initialize();
        tools = List.copyOf(client.listTools().tools());
        catalog.put(server, tools);
        return null;
      }, startTimeout);
    }

    McpSchema.CallToolResult call(McpSchema.CallToolRequest request) {
      return guarded(() -> client.callTool(request), callTimeout);
    }

    /** Runs {@code body}, failing at once if the server's process exits meanwhile. */
    private <T> T guarded(java.util.concurrent.Callable<T> body, Duration timeout) {
      CompletableFuture<T> result = CompletableFuture.supplyAsync(() -> {
        try {
          return body.call();
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      }, CALLS);
      if (process != null) {
        process.process().onExit().thenRun(() -> result.completeExceptionally(
            new IllegalStateException("MCP server " + server + " exited with "
                + process.process().exitValue() + stdio.stderrTail())));
      }
      try {
        return result.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException
            && e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause();
        throw new IllegalStateException(cause.getMessage(), cause);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("MCP server " + server + " did not answer within "
            + timeout.toSeconds() + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }

    boolean alive() {
      return process == null || process.process().isAlive();
    }

    void close() {
      try {
        client.closeGracefully();
      } catch (RuntimeException e) {
        log.debug("closing MCP server {}: {}", server, e.toString());
      }
      if (process != null) {
        Process p = process.process();
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
          p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
