package io.tether.actors.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tether.actors.harness.model.ModelScript;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * A model server on loopback that speaks the streaming wire formats of Anthropic ({@code
 * POST /v1/messages}, SSE events), OpenAI ({@code POST /v1/chat/completions}, SSE chunks ending
 * in {@code [DONE]}) and Ollama ({@code POST /api/chat}, NDJSON lines), and answers from a
 * {@link ModelScript}: the role is read from the request's system prompt, the answer's index
 * from how many different conversations that role has sent (a request repeating an earlier
 * conversation, a retry, gets the same answer), and a {@code choose} or {@code ${match:}} of the
 * script reads the latest tool result in the request. It stands in for a real provider so the
 * harness's real provider path (LangChain4j's clients, streaming, tool calls, usage) runs end to
 * end; it can hold one answer in the middle of its stream, to kill the node during it.
 */
final class WireScriptStub implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final ModelScript script;
  private final Map<String, List<String>> conversations = new HashMap<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private volatile BiPredicate<String, Long> holdOnce = (role, index) -> false;
  private final CompletableFuture<String> held = new CompletableFuture<>();
  private final CompletableFuture<Void> release = new CompletableFuture<>();
  private volatile boolean heldAlready;

  WireScriptStub(String scriptJson) throws IOException {
    this.script = ModelScript.parse(JSON.readTree(scriptJson));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "wire-script-stub");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code http://127.0.0.1:<port>}. */
  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Holds the first answer for which {@code when(role, index)} holds, mid-stream. */
  void holdOnce(BiPredicate<String, Long> when) {
    this.holdOnce = when;
  }

  /** Completes with "role/index" once an answer is held mid-stream. */
  CompletableFuture<String> held() {
    return held;
  }

  /** The paths and roles of the requests received, in order ("anthropic planner 0"). */
  List<String> received() {
    return received;
  }

  @Override
  public void close() {
    release.complete(null);
    server.stop(0);
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      JsonNode body = JSON.readTree(x.getRequestBody().readAllBytes());
      String path = x.getRequestURI().getPath();
      String format = path.endsWith("/messages") ? "anthropic"
          : path.endsWith("/chat/completions") ? "openai" : "ollama";
      String system = system(format, body);
      String role = system.contains("You are the planner") ? "planner"
          : system.contains("You are the generator") ? "generator" : "evaluator";
      long index = index(format + "/" + role, body.path("messages").toString());
      received.add(format + " " + role + " " + index);
      ModelScript.Answer answer = script.answer(role, index, lastToolResult(format, body));
      List<String[]> calls = new ArrayList<>();
      for (int i = 0; i < answer.toolCalls().size(); i++) {
        ModelScript.ScriptedToolCall c = answer.toolCalls().get(i);
        calls.add(new String[] {"call_" + role + "_" + index + "_" + i, c.name(),
            ModelScript.withMatches(c.argumentsJson(), lastToolResult(format, body))});
      }
      boolean hold = !heldAlready && holdOnce.test(role, index);
      long inputTokens = Math.max(1, body.toString().length() / 4);
      long outputTokens = Math.max(1, answer.text().length() / 4);
      x.getResponseHeaders().add("Content-Type",
          format.equals("ollama") ? "application/x-ndjson" : "text/event-stream");
      x.sendResponseHeaders(200, 0);
      OutputStream out = x.getResponseBody();
      List<String> pieces = new ArrayList<>(List.of(answer.text().split("(?<=\\s)")));
      pieces.removeIf(String::isEmpty);
      switch (format) {
        case "anthropic" -> anthropic(out, pieces, calls, inputTokens, outputTokens, hold, role,
            index);
        case "openai" -> openai(out, pieces, calls, inputTokens, outputTokens);
        default -> ollama(out, pieces, calls, inputTokens, outputTokens);
      }
    } catch (RuntimeException e) {
      e.printStackTrace();
      throw e;
    }
  }

  private synchronized long index(String key, String conversation) {
    List<String> seen = conversations.computeIfAbsent(key, k -> new ArrayList<>());
    int i = seen.indexOf(conversation);
    if (i >= 0) {
      return i;
    }
    seen.add(conversation);
    return seen.size() - 1;
  }

  private static String system(String format, JsonNode body) {
    if (format.equals("anthropic")) {
      JsonNode s = body.path("system");
      if (s.isArray()) {
        StringBuilder b = new StringBuilder();
        s.forEach(part -> b.append(part.path("text").asText()));
        return b.toString();
      }
      return s.asText("");
    }
    for (JsonNode m : body.path("messages")) {
      if (m.path("role").asText().equals("system")) {
        return m.path("content").asText("");
      }
    }
    return "";
  }

  private static String lastToolResult(String format, JsonNode body) {
    String last = "";
    for (JsonNode m : body.path("messages")) {
      if (format.equals("anthropic")) {
        for (JsonNode part : m.path("content")) {
          if (part.path("type").asText().equals("tool_result")) {
            JsonNode c = part.path("content");
            if (c.isArray()) {
              StringBuilder b = new StringBuilder();
              c.forEach(p -> b.append(p.path("text").asText()));
              last = b.toString();
            } else {
              last = c.asText("");
            }
          }
        }
      } else if (m.path("role").asText().equals("tool")) {
        last = m.path("content").asText("");
      }
    }
    return last;
  }

  private static void send(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static String sse(String event, ObjectNode data) {
    return (event == null ? "" : "event: " + event + "\n") + "data: " + data + "\n\n";
  }

  private void anthropic(OutputStream out, List<String> pieces, List<String[]> calls,
      long in, long outTokens, boolean hold, String role, long index) throws IOException {
    ObjectNode start = JSON.createObjectNode().put("type", "message_start");
    start.putObject("message").put("id", "msg_" + role + index).put("type", "message")
        .put("role", "assistant").put("model", "claude-stub").putNull("stop_reason")
        .putNull("stop_sequence").set("usage", JSON.createObjectNode()
            .put("input_tokens", in).put("output_tokens", 1));
    ((ObjectNode) start.get("message")).putArray("content");
    send(out, sse("message_start", start));
    int block = 0;
    ObjectNode textStart = JSON.createObjectNode().put("type", "content_block_start")
        .put("index", block);
    textStart.putObject("content_block").put("type", "text").put("text", "");
    send(out, sse("content_block_start", textStart));
    boolean first = true;
    for (String piece : pieces) {
      ObjectNode delta = JSON.createObjectNode().put("type", "content_block_delta")
          .put("index", block);
      delta.putObject("delta").put("type", "text_delta").put("text", piece);
      send(out, sse("content_block_delta", delta));
      if (first && hold) {
        first = false;
        heldAlready = true;
        held.complete(role + "/" + index);
        try {
          release.get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
          // Released by close: the node that read this stream is gone anyway.
        }
        return;
      }
      first = false;
    }
    send(out, sse("content_block_stop", JSON.createObjectNode()
        .put("type", "content_block_stop").put("index", block)));
    for (String[] call : calls) {
      block++;
      ObjectNode useStart = JSON.createObjectNode().put("type", "content_block_start")
          .put("index", block);
      useStart.putObject("content_block").put("type", "tool_use").put("id", call[0])
          .put("name", call[1]).putObject("input");
      send(out, sse("content_block_start", useStart));
      ObjectNode args = JSON.createObjectNode().put("type", "content_block_delta")
          .put("index", block);
      args.putObject("delta").put("type", "input_json_delta").put("partial_json", call[2]);
      send(out, sse("content_block_delta", args));
      send(out, sse("content_block_stop", JSON.createObjectNode()
          .put("type", "content_block_stop").put("index", block)));
    }
    ObjectNode end = JSON.createObjectNode().put("type", "message_delta");
    end.putObject("delta").put("stop_reason", calls.isEmpty() ? "end_turn" : "tool_use")
        .putNull("stop_sequence");
    end.putObject("usage").put("output_tokens", outTokens);
    send(out, sse("message_delta", end));
    send(out, sse("message_stop", JSON.createObjectNode().put("type", "message_stop")));
  }

  private static ObjectNode chunk(ObjectNode delta, String finish) {
    ObjectNode c = JSON.createObjectNode().put("id", "chatcmpl-stub")
        .put("object", "chat.completion.chunk").put("created", 1).put("model", "gpt-stub");
    ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
    choice.set("delta", delta);
    if (finish == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finish);
    }
    return c;
  }

  private static void openai(OutputStream out, List<String> pieces, List<String[]> calls,
      long in, long outTokens) throws IOException {
    send(out, sse(null, chunk(JSON.createObjectNode().put("role", "assistant")
        .put("content", ""), null)));
    for (String piece : pieces) {
      send(out, sse(null, chunk(JSON.createObjectNode().put("content", piece), null)));
    }
    for (int i = 0; i < calls.size(); i++) {
      ObjectNode delta = JSON.createObjectNode();
      ArrayNode toolCalls = delta.putArray("tool_calls");
      ObjectNode call = toolCalls.addObject().put("index", i).put("id", calls.get(i)[0])
          .put("type", "function");
      call.putObject("function").put("name", calls.get(i)[1]).put("arguments", calls.get(i)[2]);
      send(out, sse(null, chunk(delta, null)));
    }
    send(out, sse(null, chunk(JSON.createObjectNode(), calls.isEmpty() ? "stop" : "tool_calls")));
    ObjectNode usage = JSON.createObjectNode().put("id", "chatcmpl-stub")
        .put("object", "chat.completion.chunk").put("created", 1).put("model", "gpt-stub");
    usage.putArray("choices");
    usage.putObject("usage").put("prompt_tokens", in).put("completion_tokens", outTokens)
        .put("total_tokens", in + outTokens);
    send(out, sse(null, usage));
    send(out, "data: [DONE]\n\n");
  }

  private static void ollama(OutputStream out, List<String> pieces, List<String[]> calls,
      long in, long outTokens) throws IOException {
    for (String piece : pieces) {
      ObjectNode line = JSON.createObjectNode().put("model", "llama-stub")
          .put("created_at", "2025-01-01T00:00:00Z").put("done", false);
      line.putObject("message").put("role", "assistant").put("content", piece);
      send(out, line + "\n");
    }
    if (!calls.isEmpty()) {
      ObjectNode line = JSON.createObjectNode().put("model", "llama-stub")
          .put("created_at", "2025-01-01T00:00:00Z").put("done", false);
      ObjectNode message = line.putObject("message").put("role", "assistant").put("content", "");
      ArrayNode toolCalls = message.putArray("tool_calls");
      for (int i = 0; i < calls.size(); i++) {
        // Ollama numbers the calls of one answer (function.index), as its API does.
        toolCalls.addObject().putObject("function").put("index", i).put("name", calls.get(i)[1])
            .set("arguments", JSON.readTree(calls.get(i)[2]));
      }
      send(out, line + "\n");
    }
    ObjectNode done = JSON.createObjectNode().put("model", "llama-stub")
        .put("created_at", "2025-01-01T00:00:00Z").put("done", true)
        .put("done_reason", "stop").put("prompt_eval_count", in).put("eval_count", outTokens);
    done.putObject("message").put("role", "assistant").put("content", "");
    send(out, done + "\n");
  }
}
