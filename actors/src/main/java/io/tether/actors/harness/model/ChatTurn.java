package io.tether.actors.harness.model;

import io.tether.persistence.TetherSerializable;
import java.util.List;

/**
 * One turn of a role's conversation, as persisted in its journal and sent to a provider.
 *
 * @param kind who speaks
 * @param text the user's or assistant's text, or a tool's result
 * @param toolCalls the tool calls an assistant turn asks for (empty otherwise)
 * @param toolCallId the call a tool result answers (null otherwise)
 * @param toolName the tool a tool result comes from (null otherwise)
 */
public record ChatTurn(
    Kind kind, String text, List<ToolCall> toolCalls, String toolCallId, String toolName)
    implements TetherSerializable {

  /** Who speaks in a turn. */
  public enum Kind { USER, ASSISTANT, TOOL_RESULT }

  public ChatTurn {
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    text = text == null ? "" : text;
  }

  /** A user (harness) turn. */
  public static ChatTurn user(String text) {
    return new ChatTurn(Kind.USER, text, List.of(), null, null);
  }

  /** An assistant turn with optional tool calls. */
  public static ChatTurn assistant(String text, List<ToolCall> toolCalls) {
    return new ChatTurn(Kind.ASSISTANT, text, toolCalls, null, null);
  }

  /** A tool's result answering {@code call}. */
  public static ChatTurn toolResult(ToolCall call, String text) {
    return new ChatTurn(Kind.TOOL_RESULT, text, List.of(), call.id(), call.name());
  }
}
