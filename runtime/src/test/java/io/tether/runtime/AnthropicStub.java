package io.tether.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for Anthropic's Messages API on loopback, speaking its real streaming wire format
 * (SSE events {@code message_start} ... {@code message_stop}), that plays one harness run and
 * tempts every leak it can: the Planner's first call is refused with a 401 whose body echoes the
 * API key it was sent, its second fails mid-stream with an {@code error} event echoing it too,
 * its third answers with a spec; the Generator's first call asks for a {@code run_command} that
 * prints the command's environment and {@code $ANTHROPIC_API_KEY} / {@code $OPENAI_API_KEY}
 * and reads its parent's and every visible process's {@code /proc/<pid>/environ} (without a PID
 * namespace, the parent is the node), its second (after the tool result) finishes; the
 * Evaluator passes the sprint. Every request is recorded with the key it carried.
 */
final class AnthropicStub implements AutoCloseable {

  /** A request as received: the {@code x-api-key} header and the JSON body. */
  record Received(String role, String apiKey, String body) {}

  /** What the Generator's tool call runs. */
  static final String LEAK_COMMAND = "env; echo \"anthropic=[$ANTHROPIC_API_KEY]\";"
      + " echo \"openai=[$OPENAI_API_KEY]\"; printenv ANTHROPIC_API_KEY;"
      + " tr '\\0' '\\n' < /proc/self/environ; tr '\\0' '\\n' < /proc/$PPID/environ;"
      + " cat /proc/*/environ | tr '\\0' '\\n'; echo leak-probe-done";

  /** Text in the Planner's refused calls that must reach the session and journal (redacted). */
  static final String AUTH_ERROR_TEXT = "invalid x-api-key";
  static final String STREAM_ERROR_TEXT = "Overloaded while serving key";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger plannerCalls = new AtomicInteger();

  AnthropicStub() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "anthropic-stub");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
  }

  /** The base URL to configure as the provider's {@code base-url}. */
  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/";
  }

  List<Received> received() {
    return received;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String key = exchange.getRequestHeaders().getFirst("x-api-key");
      String role = body.contains("You are the planner") ? "planner"
          : body.contains("You are the generator") ? "generator"
          : body.contains("You are the evaluator") ? "evaluator" : "unknown";
      received.add(new Received(role, key, body));
      if (!exchange.getRequestURI().getPath().endsWith("/messages")) {
        plain(exchange, 404, "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\"}}");
        return;
      }
      switch (role) {
        case "planner" -> {
          int call = plannerCalls.incrementAndGet();
          if (call == 1) {
            plain(exchange, 401, "{\"type\":\"error\",\"error\":{\"type\":"
                + "\"authentication_error\",\"message\":\"" + AUTH_ERROR_TEXT + ": " + key
                + "\"}}");
          } else if (call == 2) {
            stream(exchange, List.of(messageStart(), event("error", "{\"type\":\"error\","
                + "\"error\":{\"type\":\"overloaded_error\",\"message\":\"" + STREAM_ERROR_TEXT
                + " " + key + "\"}}")));
          } else {
            stream(exchange, text("# Slugs\n\nA command-line tool that turns titles into URL"
                + " slugs, for people who publish.\n"));
          }
        }
        case "generator" -> stream(exchange, body.contains("tool_result")
            ? text("Built it and ran the command.")
            : toolUse("toolu_leak_1", "run_command", LEAK_COMMAND));
        case "evaluator" -> stream(exchange, text("{\"scores\": {\"functionality\": 9,"
            + " \"code-quality\": 9, \"tests\": 9}, \"feedback\": \"fine\"}"));
        default -> plain(exchange, 400, "{\"type\":\"error\",\"error\":{\"type\":"
            + "\"invalid_request_error\",\"message\":\"unknown role\"}}");
      }
    }
  }

  private static void plain(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static void stream(HttpExchange exchange, List<String> events) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    for (String e : events) {
      out.write(e.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }

  private static String event(String name, String data) {
    return "event: " + name + "\ndata: " + data + "\n\n";
  }

  private static String messageStart() {
    return event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
        + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-stub\","
        + "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
        + "\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}");
  }

  private static List<String> text(String text) {
    ObjectNode delta = JSON.createObjectNode();
    delta.put("type", "content_block_delta");
    delta.put("index", 0);
    delta.putObject("delta").put("type", "text_delta").put("text", text);
    return List.of(messageStart(),
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
            + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
        event("content_block_delta", delta.toString()),
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
        event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
            + "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":12}}"),
        event("message_stop", "{\"type\":\"message_stop\"}"));
  }

  private static List<String> toolUse(String id, String name, String command) {
    ObjectNode input = JSON.createObjectNode().put("command", command);
    ObjectNode delta = JSON.createObjectNode();
    delta.put("type", "content_block_delta");
    delta.put("index", 0);
    delta.putObject("delta").put("type", "input_json_delta").put("partial_json",
        input.toString());
    return List.of(messageStart(),
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
            + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"" + id + "\",\"name\":\""
            + name + "\",\"input\":{}}}"),
        event("content_block_delta", delta.toString()),
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"),
        event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
            + "\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}"),
        event("message_stop", "{\"type\":\"message_stop\"}"));
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
