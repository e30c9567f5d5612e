package io.tether.actors.harness.model;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * A real provider through a LangChain4j streaming chat model: converts the harness's
 * conversation to LangChain4j messages and tool specifications, streams the partial text to the
 * listener, and maps the complete response (text, tool calls, token usage) back. One chat model
 * is built per model name and reused. A provider error, a broken stream or a dropped connection
 * fails the stage; so does a stream that ends without a finish reason (an error event some
 * clients skip), and a stream that goes silent for longer than the call timeout, because a
 * connection that closes between events may never reach LangChain4j's error callback. The API
 * key never shows in an error: a provider (or a proxy in front of it) may echo it in an error
 * body, which LangChain4j puts in its exception's message, so it is cut out of every message.
 */
public final class LangChainProvider implements ModelProvider {

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);
  private static final com.fasterxml.jackson.databind.ObjectMapper SCHEMA_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final String name;
  private final BiFunction<String, HttpClientBuilder, StreamingChatModel> modelFactory;
  private final Duration callTimeout;
  private final Supplier<String> apiKey;

  /**
   * @param name the provider's name in model references
   * @param modelFactory builds the chat model for a model name over the given HTTP client
   *     builder (credentials captured inside)
   * @param callTimeout the longest one call may take
   */
  public LangChainProvider(String name,
      BiFunction<String, HttpClientBuilder, StreamingChatModel> modelFactory,
      Duration callTimeout) {
    this(name, modelFactory, callTimeout, () -> null);
  }

  /**
   * @param name the provider's name in model references
   * @param modelFactory builds the chat model for a model name over the given HTTP client
   *     builder (credentials captured inside)
   * @param callTimeout the longest one call may take
   * @param apiKey the key the factory sends (null for none), redacted from every error
   */
  public LangChainProvider(String name,
      BiFunction<String, HttpClientBuilder, StreamingChatModel> modelFactory,
      Duration callTimeout, Supplier<String> apiKey) {
    this.name = name;
    this.modelFactory = modelFactory;
    this.callTimeout = callTimeout;
    this.apiKey = apiKey;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean scripted() {
    return false;
  }

  @Override
  public CompletionStage<ModelResponse> stream(ModelRequest request, ModelStreamListener listener) {
    CompletableFuture<ModelResponse> result = new CompletableFuture<>();
    try {
      // One model (and HTTP client) per call, so the end of this call's stream is observable.
      Executor later = CompletableFuture.delayedExecutor(CLOSE_GRACE.toMillis(),
          TimeUnit.MILLISECONDS);
      StreamingChatModel model = modelFactory.apply(request.model(), new StreamEndWatch(() ->
          later.execute(() -> result.completeExceptionally(new ModelProviderException(name
              + " stream closed without a complete response", null)))));
      ChatRequest.Builder chat = ChatRequest.builder()
          .messages(toMessages(request))
          .maxOutputTokens(request.maxOutputTokens());
      if (!request.tools().isEmpty()) {
        chat.toolSpecifications(request.tools().stream().map(LangChainProvider::toSpec).toList());
      }
      model.chat(chat.build(), new StreamingChatResponseHandler() {
        @Override
        public void onPartialResponse(String text) {
          if (text != null && !text.isEmpty() && !result.isDone()) {
            listener.onTextDelta(text);
          }
        }

        @Override
        public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
          if (listener.cancelled()) {
            context.streamingHandle().cancel();
            result.completeExceptionally(
                new ModelProviderException(name + " call cancelled by the caller", null));
            return;
          }
          onPartialResponse(partial.text());
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
          if (response.finishReason() == null) {
            // LangChain4j's OpenAI client skips an {"error": ...} chunk and completes with
            // what it had: a stream without a finish reason broke off and is not an answer.
            result.completeExceptionally(new ModelProviderException(name + " stream ended"
                + " without a finish reason: the server broke off or sent an error event", null));
            return;
          }
          result.complete(fromResponse(response));
        }

        @Override
        public void onError(Throwable error) {
          result.completeExceptionally(new ModelProviderException(
              name + " call failed: " + describe(error), error));
        }
      });
    } catch (RuntimeException e) {
      result.completeExceptionally(
          new ModelProviderException(name + " call failed: " + describe(e), e));
    }
    return result.orTimeout(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(e -> CompletableFuture.failedFuture(
            e instanceof ModelProviderException ? e
                : e.getCause() instanceof ModelProviderException ? e.getCause()
                : new ModelProviderException(name + " call failed: " + describe(e), e)));
  }

  private String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName()
        : root.getClass().getSimpleName() + ": " + root.getMessage();
    String key = apiKey.get();
    if (key != null && !key.isBlank()) {
      message = message.replace(key, "[redacted]");
    }
    return message.length() > 500 ? message.substring(0, 500) + "..." : message;
  }

  static List<ChatMessage> toMessages(ModelRequest request) {
    List<ChatMessage> out = new ArrayList<>();
    if (request.system() != null && !request.system().isBlank()) {
      out.add(SystemMessage.from(request.system()));
    }
    for (ChatTurn turn : request.messages()) {
      switch (turn.kind()) {
        case USER -> out.add(UserMessage.from(turn.text()));
        case TOOL_RESULT -> out.add(
            ToolExecutionResultMessage.from(turn.toolCallId(), turn.toolName(), turn.text()));
        case ASSISTANT -> {
          List<ToolExecutionRequest> calls = turn.toolCalls().stream()
              .map(c -> ToolExecutionRequest.builder()
                  .id(c.id()).name(c.name()).arguments(c.argumentsJson()).build())
              .toList();
          if (calls.isEmpty()) {
            out.add(AiMessage.from(turn.text().isEmpty() ? "(no text)" : turn.text()));
          } else if (turn.text().isEmpty()) {
            out.add(AiMessage.from(calls));
          } else {
            out.add(AiMessage.from(turn.text(), calls));
          }
        }
        default -> throw new IllegalStateException("unknown turn kind " + turn.kind());
      }
    }
    return out;
  }

  static ToolSpecification toSpec(ToolSpec tool) {
    if (tool.inputSchemaJson() != null) {
      try {
        return ToolSpecification.builder().name(tool.name()).description(tool.description())
            .parameters(JsonSchemas.objectSchema(SCHEMA_JSON.readTree(tool.inputSchemaJson())))
            .build();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("the schema of tool " + tool.name()
            + " is not JSON", e);
      }
    }
    JsonObjectSchema.Builder schema = JsonObjectSchema.builder();
    List<String> required = new ArrayList<>();
    for (ToolSpec.Param p : tool.parameters()) {
      switch (p.type()) {
        case STRING -> schema.addStringProperty(p.name(), p.description());
        case INTEGER -> schema.addIntegerProperty(p.name(), p.description());
        case BOOLEAN -> schema.addBooleanProperty(p.name(), p.description());
        default -> throw new IllegalStateException("unknown type " + p.type());
      }
      if (p.required()) {
        required.add(p.name());
      }
    }
    schema.required(required);
    return ToolSpecification.builder()
        .name(tool.name()).description(tool.description()).parameters(schema.build()).build();
  }

  static ModelResponse fromResponse(ChatResponse response) {
    AiMessage ai = response.aiMessage();
    List<ToolCall> calls = new ArrayList<>();
    if (ai.hasToolExecutionRequests()) {
      for (ToolExecutionRequest r : ai.toolExecutionRequests()) {
        calls.add(new ToolCall(r.id() == null ? r.name() + "-" + calls.size() : r.id(), r.name(),
            r.arguments() == null || r.arguments().isBlank() ? "{}" : r.arguments()));
      }
    }
    dev.langchain4j.model.output.TokenUsage u = response.tokenUsage();
    TokenUsage usage = u == null ? TokenUsage.NONE : new TokenUsage(
        u.inputTokenCount() == null ? 0 : u.inputTokenCount(),
        u.outputTokenCount() == null ? 0 : u.outputTokenCount());
    return new ModelResponse(ai.text(), calls, usage,
        response.finishReason() == null ? null : response.finishReason().name().toLowerCase());
  }
}
