package io.tether.actors.harness.model;

import java.util.List;

/**
 * A model call's complete answer.
 *
 * @param text the assistant's text
 * @param toolCalls the tool calls it asks for
 * @param usage the tokens consumed
 * @param finishReason why the model stopped, as the provider says it
 */
public record ModelResponse(String text, List<ToolCall> toolCalls, TokenUsage usage,
    String finishReason) {

  public ModelResponse {
    text = text == null ? "" : text;
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    usage = usage == null ? TokenUsage.NONE : usage;
  }
}
