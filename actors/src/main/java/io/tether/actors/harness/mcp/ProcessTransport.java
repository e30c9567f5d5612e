package io.tether.actors.harness.mcp;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * MCP's stdio transport over a process Tether started itself: newline-delimited JSON-RPC
 * messages on the process's standard input and output. The SDK's own stdio transport starts
 * its process itself; a run's server must be started by the sandbox's launcher instead (from
 * the thread whose death kills it, in the run's namespaces), so this transport takes the
 * process once it runs. Standard error is drained and its last lines kept for error messages.
 */
final class ProcessTransport implements McpClientTransport {

  private static final Logger log = LoggerFactory.getLogger(ProcessTransport.class);
  private static final int STDERR_LINES = 20;

  private final Process process;
  private final McpJsonMapper json;
  private final String name;
  private final OutputStream stdin;
  private final Deque<String> stderr = new ArrayDeque<>();
  private volatile boolean closing;

  ProcessTransport(Process process, McpJsonMapper json, String name) {
    this.process = process;
    this.json = json;
    this.name = name;
    this.stdin = process.getOutputStream();
    daemon("tether-mcp-stderr-" + name, () -> drainStderr(process.getErrorStream())).start();
  }

  @Override
  public Mono<Void> connect(
      Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
    return Mono.fromRunnable(() -> daemon("tether-mcp-stdout-" + name, () -> read(handler))
        .start());
  }

  private void read(
      Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        McpSchema.JSONRPCMessage message;
        try {
          message = McpSchema.deserializeJsonRpcMessage(json, line);
        } catch (IOException | IllegalArgumentException e) {
          log.debug("MCP server {} wrote a line that is not JSON-RPC: {}", name, e.toString());
          continue;
        }
        handler.apply(Mono.just(message)).subscribe(null, error ->
            log.debug("MCP server {}: handling a message failed: {}", name, error.toString()));
      }
    } catch (IOException e) {
      // The process ended: the connection's users see it through the process's exit.
    }
    if (!closing) {
      log.info("MCP server {} closed its output (exit: {}): {}", name,
          process.isAlive() ? "still running" : process.exitValue(), stderrTail());
    }
  }

  @Override
  public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
    return Mono.<Void>fromRunnable(() -> {
      try {
        byte[] line = (json.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (stdin) {
          stdin.write(line);
          stdin.flush();
        }
      } catch (IOException e) {
        throw new IllegalStateException("MCP server " + name + " is not reading: "
            + e.getMessage() + stderrTail(), e);
      }
    }).subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public Mono<Void> closeGracefully() {
    return Mono.fromRunnable(this::close);
  }

  @Override
  public void close() {
    closing = true;
    try {
      stdin.close();
    } catch (IOException ignored) {
      // Already closed.
    }
  }

  @Override
  public <T> T unmarshalFrom(Object data, TypeRef<T> type) {
    return json.convertValue(data, type);
  }

  /** The last lines the server wrote to standard error, as a suffix for error messages. */
  String stderrTail() {
    synchronized (stderr) {
      return stderr.isEmpty() ? "" : "; its last output: " + String.join(" | ", stderr);
    }
  }

  private void drainStderr(InputStream err) {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(err, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (stderr) {
          stderr.addLast(line.length() > 300 ? line.substring(0, 300) + "..." : line);
          while (stderr.size() > STDERR_LINES) {
            stderr.removeFirst();
          }
        }
      }
    } catch (IOException ignored) {
      // The process ended.
    }
  }

  private static Thread daemon(String name, Runnable task) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    return t;
  }
}
