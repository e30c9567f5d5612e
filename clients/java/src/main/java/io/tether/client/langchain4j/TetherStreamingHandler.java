package io.tether.client.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import io.tether.client.AgentRun;
import io.tether.client.IdempotentProducer;
import io.tether.client.RunCancelledException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A LangChain4j {@link StreamingChatResponseHandler} that writes a streaming chat answer into a
 * Tether session as part of an {@link AgentRun}, and cancels the model call when the session
 * cancels the run.
 *
 * <p>What it writes: the answer's text as one message ({@code message.start} with role
 * {@code assistant}, a {@code message.delta} per partial response, {@code message.end}); the
 * model's thinking, when it streams any, as a message of role {@code reasoning}; each complete
 * tool call as {@code tool.call} ({@code toolCallId}, {@code name}, {@code arguments}). With
 * {@code endRun}, the run ends too: {@code complete} after the answer, {@code error} after a
 * model error. Everything goes through the run's idempotent producer: batched, in order, once.
 *
 * <p>Cancel: when the run is stopped, the handler calls {@link StreamingHandle#cancel()} on the
 * model's stream (at once, or at the model's next callback if it has not called back yet),
 * writes nothing more (the session refuses the run's output from its fence and ends the run
 * itself) and fails {@link #response()} with a {@link RunCancelledException}.
 *
 * <pre>{@code
 * AgentRun run = agent.startRun(userMessageId).join();
 * ChatResponse answer = TetherStreamingHandler.stream(model, request, run, true).join();
 * }</pre>
 *
 * <p>A run whose answer spans several model calls (a steer fed into a next step, tool results
 * sent back) can keep one answer message open across them with
 * {@link #continuing(AgentRun, AgentRun.Message)}: each call's text goes into that message,
 * which the caller ends.
 */
public final class TetherStreamingHandler implements StreamingChatResponseHandler {

  private final AgentRun run;
  private final boolean endRun;
  private final AgentRun.Message given;
  private final CompletableFuture<ChatResponse> response = new CompletableFuture<>();
  private final Set<String> toolCallsWritten = new HashSet<>();
  private volatile StreamingHandle handle;
  private volatile boolean stopped;
  private AgentRun.Message text;
  private AgentRun.Message thinking;
  private int unnamedToolCalls;

  /**
   * A handler for one model call of {@code run}.
   *
   * @param endRun whether to end the run when the answer completes or fails (false when the
   *     run goes on with tool execution and further model calls)
   */
  public TetherStreamingHandler(AgentRun run, boolean endRun) {
    this(run, null, endRun);
  }

  private TetherStreamingHandler(AgentRun run, AgentRun.Message message, boolean endRun) {
    this.run = Objects.requireNonNull(run, "run");
    this.given = message;
    this.text = message;
    this.endRun = endRun;
    run.onCancel(this::cancelled);
  }

  /**
   * A handler for one model call of {@code run} whose text goes into {@code message}, which it
   * leaves open (the caller ends it, and the run).
   */
  public static TetherStreamingHandler continuing(AgentRun run, AgentRun.Message message) {
    return new TetherStreamingHandler(run, Objects.requireNonNull(message, "message"), false);
  }

  /** Calls {@code model} with {@code request} through this handler; returns {@link #response()}. */
  public CompletableFuture<ChatResponse> stream(StreamingChatModel model, ChatRequest request) {
    if (!stopped) {
      try {
        model.chat(request, this);
      } catch (RuntimeException e) {
        onError(e);
      }
    }
    return response();
  }

  /**
   * Streams {@code request} through {@code model} into {@code run}. Completes with the model's
   * response once what it wrote is durable; fails with {@link RunCancelledException} when the
   * session stopped the run, or with the model's error.
   */
  public static CompletableFuture<ChatResponse> stream(StreamingChatModel model,
      ChatRequest request, AgentRun run, boolean endRun) {
    return new TetherStreamingHandler(run, endRun).stream(model, request);
  }

  /** The outcome: the model's response, a {@link RunCancelledException}, or the model's error. */
  public CompletableFuture<ChatResponse> response() {
    return response.copy();
  }

  @Override
  public void onPartialResponse(String partialResponse) {
    onPartialResponse(new PartialResponse(partialResponse), null);
  }

  @Override
  public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
    if (proceed(context == null ? null : context.streamingHandle())) {
      synchronized (this) {
        if (text == null || (text.ended() && given == null)) {
          text = run.startMessage("assistant");
        }
        text.delta(partial.text());
      }
    }
  }

  @Override
  public void onPartialThinking(PartialThinking partialThinking) {
    onPartialThinking(partialThinking, null);
  }

  @Override
  public void onPartialThinking(PartialThinking partial, PartialThinkingContext context) {
    if (proceed(context == null ? null : context.streamingHandle())) {
      synchronized (this) {
        if (thinking == null) {
          thinking = run.startMessage("reasoning");
        }
        thinking.delta(partial.text());
      }
    }
  }

  @Override
  public void onPartialToolCall(PartialToolCall partialToolCall) {
    proceed(null);
  }

  @Override
  public void onPartialToolCall(PartialToolCall partial, PartialToolCallContext context) {
    proceed(context == null ? null : context.streamingHandle());
  }

  @Override
  public void onCompleteToolCall(CompleteToolCall toolCall) {
    if (proceed(null)) {
      writeToolCall(toolCall.toolExecutionRequest());
    }
  }

  @Override
  public void onCompleteResponse(ChatResponse chatResponse) {
    if (stopped) {
      return;
    }
    List<CompletableFuture<IdempotentProducer.Appended>> writes = new ArrayList<>();
    synchronized (this) {
      if (thinking != null) {
        writes.add(thinking.end("complete"));
      }
      if (text == null && chatResponse.aiMessage() != null && chatResponse.aiMessage().text() != null
          && !chatResponse.aiMessage().text().isEmpty()) {
        // A model that streamed nothing but answered with text.
        text = run.startMessage("assistant");
        text.delta(chatResponse.aiMessage().text());
      }
      if (text != null && given == null) {
        writes.add(text.end("complete"));
      } else if (text != null) {
        writes.add(text.lastWrite());
      }
      if (chatResponse.aiMessage() != null && chatResponse.aiMessage().hasToolExecutionRequests()) {
        for (ToolExecutionRequest call : chatResponse.aiMessage().toolExecutionRequests()) {
          writes.add(writeToolCall(call));
        }
      }
    }
    CompletableFuture<?> durable = CompletableFuture.allOf(writes.stream()
        .filter(Objects::nonNull).toArray(CompletableFuture[]::new));
    if (endRun) {
      durable = durable.thenCompose(v -> run.end("complete"));
    }
    durable.whenComplete((v, error) -> {
      if (stopped) {
        return;
      }
      if (error != null) {
        response.completeExceptionally(error);
      } else {
        response.complete(chatResponse);
      }
    });
  }

  @Override
  public void onError(Throwable error) {
    if (stopped) {
      // A model may report its own cancellation as an error: the cancel already settled it.
      return;
    }
    synchronized (this) {
      if (thinking != null) {
        thinking.end("error");
      }
      if (text != null && given == null) {
        text.end("error");
      }
    }
    CompletableFuture<Void> ended = endRun ? run.end("error") : CompletableFuture.completedFuture(null);
    ended.whenComplete((v, e) -> response.completeExceptionally(error));
  }

  /** Remembers the model's stream handle; false (and cancels it) when the run was stopped. */
  private boolean proceed(StreamingHandle streamingHandle) {
    if (streamingHandle != null && handle == null) {
      handle = streamingHandle;
    }
    if (stopped) {
      StreamingHandle h = handle;
      if (h != null && !h.isCancelled()) {
        h.cancel();
      }
      return false;
    }
    return true;
  }

  private void cancelled(AgentRun.Cancellation cancellation) {
    stopped = true;
    StreamingHandle h = handle;
    if (h != null && !h.isCancelled()) {
      h.cancel();
    }
    response.completeExceptionally(new RunCancelledException(run.id(), cancellation));
  }

  private synchronized CompletableFuture<IdempotentProducer.Appended> writeToolCall(
      ToolExecutionRequest call) {
    String id = call.id() != null ? call.id() : run.id() + "-tool-" + (++unnamedToolCalls);
    if (call.id() != null && !toolCallsWritten.add(call.id())) {
      return null;
    }
    if (text != null && !text.ended() && given == null) {
      // Text before a tool call is finished: the call follows it in the session.
      text.end("complete");
    }
    return run.toolCall(id, call.name(), call.arguments() == null ? "{}" : call.arguments());
  }
}
