package io.tether.actors.harness.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The offline provider: replays a {@link ModelScript} deterministically, streaming each answer
 * word by word. The same request (role, call index, latest tool result) always gets the same
 * answer, so a call re-issued after a crash replays exactly. Usage is estimated at four
 * characters a token so budgets work offline. {@link #scripted()} is true: every place that shows
 * its output (session events, run descriptions) labels it as scripted.
 */
public final class ScriptedProvider implements ModelProvider {

  /** The provider name used in model references: {@code scripted:<script>}. */
  public static final String NAME = "scripted";

  private final Path scriptDirectory;
  private final Executor executor;
  private final Map<String, ModelScript> scripts = new ConcurrentHashMap<>();

  /**
   * @param scriptDirectory where scripts are looked up before the classpath (may be null)
   * @param executor where answers are streamed from, off the caller's thread
   */
  public ScriptedProvider(Path scriptDirectory, Executor executor) {
    this.scriptDirectory = scriptDirectory;
    this.executor = executor;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean scripted() {
    return true;
  }

  @Override
  public CompletionStage<ModelResponse> stream(ModelRequest request, ModelStreamListener listener) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        ModelScript script = scripts.computeIfAbsent(request.model(),
            name -> ModelScript.load(name, scriptDirectory));
        String lastToolResult = lastToolResult(request.messages());
        ModelScript.Answer answer =
            script.answer(request.role(), request.callIndex(), lastToolResult);
        for (String piece : answer.text().split("(?<=\\s)")) {
          if (listener.cancelled()) {
            throw new IllegalStateException("cancelled by the caller");
          }
          if (!piece.isEmpty()) {
            listener.onTextDelta(piece);
          }
        }
        List<ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < answer.toolCalls().size(); i++) {
          ModelScript.ScriptedToolCall c = answer.toolCalls().get(i);
          calls.add(new ToolCall("scripted-" + request.role() + "-" + request.callIndex() + "-" + i,
              c.name(), ModelScript.withMatches(c.argumentsJson(), lastToolResult)));
        }
        return new ModelResponse(answer.text(), calls,
            new TokenUsage(estimateTokens(request), Math.max(1, answer.text().length() / 4)),
            calls.isEmpty() ? "stop" : "tool_calls");
      } catch (RuntimeException e) {
        throw new ModelProviderException("scripted model failed: " + e.getMessage(), e);
      }
    }, executor);
  }

  private static String lastToolResult(List<ChatTurn> messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i).kind() == ChatTurn.Kind.TOOL_RESULT) {
        return messages.get(i).text();
      }
    }
    return "";
  }

  private static long estimateTokens(ModelRequest request) {
    long chars = request.system() == null ? 0 : request.system().length();
    for (ChatTurn t : request.messages()) {
      chars += t.text().length();
    }
    return Math.max(1, chars / 4);
  }
}
