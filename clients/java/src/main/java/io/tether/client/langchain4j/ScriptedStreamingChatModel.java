package io.tether.client.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An offline, scripted LangChain4j {@link StreamingChatModel}: it calls no language model. Each
 * request is answered by a {@link Script} (text, then optional tool calls) that a function of
 * the request decides, streamed token by token at a fixed pace, honouring
 * {@link StreamingHandle#cancel()} between tokens the way a real provider stops reading its
 * response. For demos where no model can be reached and for tests; whatever it writes is
 * scripted, so label it as such where people read it.
 *
 * <p>Every call is recorded ({@link #calls()}): how many tokens it streamed and whether it was
 * cancelled, so a test can see that a cancel stopped the model call.
 */
public final class ScriptedStreamingChatModel implements StreamingChatModel {

  /**
   * What one call answers.
   *
   * @param tokens the text, in the pieces it is streamed in
   * @param toolCalls tool calls the answer ends with (may be empty)
   */
  public record Script(List<String> tokens, List<ToolExecutionRequest> toolCalls) {
    /** Copies the lists. */
    public Script {
      tokens = List.copyOf(tokens);
      toolCalls = List.copyOf(toolCalls);
    }

    /** {@code text} streamed a word at a time (each piece keeps its trailing spaces). */
    public static Script text(String text) {
      List<String> tokens = new ArrayList<>();
      Matcher m = WORD.matcher(text);
      while (m.find()) {
        tokens.add(m.group());
      }
      return new Script(tokens, List.of());
    }

    /** The same script, ending with a tool call. */
    public Script withToolCall(String id, String name, String argumentsJson) {
      List<ToolExecutionRequest> calls = new ArrayList<>(toolCalls);
      calls.add(ToolExecutionRequest.builder().id(id).name(name).arguments(argumentsJson).build());
      return new Script(tokens, calls);
    }

    /** The whole text. */
    public String fullText() {
      return String.join("", tokens);
    }
  }

  /** One call of the model, as it went. */
  public static final class Call {
    private final ChatRequest request;
    private final AtomicInteger streamed = new AtomicInteger();
    private final CompletableFuture<Integer> cancelled = new CompletableFuture<>();
    private final CompletableFuture<ChatResponse> completed = new CompletableFuture<>();

    private Call(ChatRequest request) {
      this.request = request;
    }

    /** The request it answered. */
    public ChatRequest request() {
      return request;
    }

    /** Tokens streamed so far. */
    public int streamed() {
      return streamed.get();
    }

    /** Completes with the tokens streamed when the caller cancelled the stream. */
    public CompletableFuture<Integer> cancelled() {
      return cancelled;
    }

    /** Completes with the response when the call ran to its end. */
    public CompletableFuture<ChatResponse> completed() {
      return completed;
    }
  }

  private static final Pattern WORD = Pattern.compile("\\S+\\s*|\\s+");

  private final Function<ChatRequest, Script> script;
  private final Duration tokenInterval;
  private final List<Call> calls = new CopyOnWriteArrayList<>();

  /**
   * A model answering each request with {@code script.apply(request)}, one token every
   * {@code tokenInterval}.
   */
  public ScriptedStreamingChatModel(Function<ChatRequest, Script> script, Duration tokenInterval) {
    this.script = Objects.requireNonNull(script, "script");
    this.tokenInterval = Objects.requireNonNull(tokenInterval, "tokenInterval");
  }

  /** Every call so far, oldest first. */
  public List<Call> calls() {
    return List.copyOf(calls);
  }

  @Override
  public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
    Call call = new Call(request);
    calls.add(call);
    Script answer = script.apply(request);
    Handle handle = new Handle(call);
    Executor later = CompletableFuture.delayedExecutor(tokenInterval.toMillis(), TimeUnit.MILLISECONDS);
    later.execute(() -> next(answer, 0, handler, handle, later));
  }

  private void next(Script answer, int index, StreamingChatResponseHandler handler, Handle handle,
      Executor later) {
    try {
      if (index < answer.tokens().size()) {
        synchronized (handle.call) {
          if (handle.isCancelled()) {
            return;
          }
          handle.call.streamed.incrementAndGet();
        }
        handler.onPartialResponse(new PartialResponse(answer.tokens().get(index)),
            new PartialResponseContext(handle));
        later.execute(() -> next(answer, index + 1, handler, handle, later));
        return;
      }
      if (handle.isCancelled()) {
        return;
      }
      for (int i = 0; i < answer.toolCalls().size(); i++) {
        handler.onCompleteToolCall(new CompleteToolCall(i, answer.toolCalls().get(i)));
      }
      String text = answer.fullText();
      AiMessage message = answer.toolCalls().isEmpty() ? AiMessage.from(text)
          : AiMessage.from(text, answer.toolCalls());
      ChatResponse response = ChatResponse.builder().aiMessage(message).modelName("scripted")
          .finishReason(answer.toolCalls().isEmpty() ? FinishReason.STOP
              : FinishReason.TOOL_EXECUTION)
          .build();
      handle.call.completed.complete(response);
      handler.onCompleteResponse(response);
    } catch (RuntimeException e) {
      handler.onError(e);
    }
  }

  /** The stream's handle: cancelling it stops the script before its next token. */
  private static final class Handle implements StreamingHandle {
    private final Call call;
    private final AtomicBoolean cancelled = new AtomicBoolean();

    Handle(Call call) {
      this.call = call;
    }

    @Override
    public void cancel() {
      synchronized (call) {
        if (cancelled.compareAndSet(false, true)) {
          call.cancelled.complete(call.streamed.get());
        }
      }
    }

    @Override
    public boolean isCancelled() {
      return cancelled.get();
    }
  }
}
