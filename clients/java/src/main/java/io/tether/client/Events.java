package io.tether.client;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds the events of the session protocol. {@code producer} and {@code time} are left out:
 * the server fills them in for a WebSocket publish (the connection's device and its clock) and
 * {@link IdempotentProducer} for its appends.
 *
 * <pre>{@code
 * session.publish(Events.userMessage("m-7", "Plan a trip"));
 * }</pre>
 */
public final class Events {
  private Events() {}

  /** An event of any type with the given data (a copy is not made). */
  public static Event of(String type, String run, ObjectNode data) {
    return Event.of(new Envelope(type, run, null, null, null, data));
  }

  /** {@code message.start} of message {@code id} with a role ({@code assistant}, {@code user}). */
  public static Event.MessageStart messageStart(String run, String id, String role) {
    ObjectNode data = Json.object().put("id", id).put("role", role);
    return (Event.MessageStart) of("message.start", run, data);
  }

  /** {@code message.delta}: a piece of message {@code id}'s text. */
  public static Event.MessageDelta messageDelta(String run, String id, String text) {
    return (Event.MessageDelta) of("message.delta", run, Json.object().put("id", id).put("text", text));
  }

  /** {@code message.end} with {@code complete}, {@code cancelled} or {@code error}. */
  public static Event.MessageEnd messageEnd(String run, String id, String status) {
    return (Event.MessageEnd) of("message.end", run, Json.object().put("id", id).put("status", status));
  }

  /**
   * A whole message as one {@code message} event. Servers before session protocol change (f)
   * refuse to take {@code message} from a WebSocket publish ({@code invalid-event}); use
   * {@link #userMessage} there.
   */
  public static Event.Message message(String run, String id, String role, String text) {
    ObjectNode data = Json.object().put("id", id).put("role", role).put("text", text)
        .put("status", "complete");
    return (Event.Message) of("message", run, data);
  }

  /**
   * A user's message as {@code message.start} (role {@code user}, the whole text in
   * {@code data.text}) and {@code message.end} {@code complete}: publish the two together (one
   * publish is atomic). Every server version takes it, and it is how the TypeScript transport
   * publishes where {@code message} is refused. ({@link MessageAssembler} reads it as one
   * message.)
   */
  public static Event[] userMessage(String id, String text) {
    ObjectNode start = Json.object().put("id", id).put("role", "user").put("text", text);
    return new Event[] {of("message.start", null, start), messageEnd(null, id, "complete")};
  }

  /**
   * {@code tool.call}: the model asked to call tool {@code name} with JSON arguments. The call's
   * id is written as {@code id} (what the TypeScript client reads) and {@code toolCallId} (what
   * the harness writes), the arguments as JSON text ({@code arguments}) and, when they parse, as
   * a JSON value ({@code input}).
   */
  public static Event.ToolCall toolCall(String run, String toolCallId, String name,
      String argumentsJson) {
    ObjectNode data = Json.object().put("id", toolCallId).put("toolCallId", toolCallId)
        .put("name", name).put("arguments", argumentsJson);
    try {
      data.set("input", Json.read(argumentsJson));
    } catch (com.fasterxml.jackson.core.JsonProcessingException | RuntimeException notJson) {
      // arguments only
    }
    return (Event.ToolCall) of("tool.call", run, data);
  }

  /**
   * {@code tool.result} with {@code ok} or {@code error} and the tool's output (also as
   * {@code error} for an error, what the TypeScript client reads); the id as for
   * {@link #toolCall}.
   */
  public static Event.ToolResult toolResult(String run, String toolCallId, String status,
      String output) {
    ObjectNode data = Json.object().put("id", toolCallId).put("toolCallId", toolCallId)
        .put("status", status).put("output", output);
    if ("error".equals(status)) {
      data.put("error", output);
    }
    return (Event.ToolResult) of("tool.result", run, data);
  }

  /** {@code run.start}, answering input message {@code input} (or null). */
  public static Event.RunStart runStart(String run, String input) {
    ObjectNode data = Json.object();
    if (input != null) {
      data.put("input", input);
    }
    return (Event.RunStart) of("run.start", run, data);
  }

  /** {@code run.end} with {@code complete}, {@code cancelled}, {@code error} or {@code lost}. */
  public static Event.RunEnd runEnd(String run, String status) {
    return (Event.RunEnd) of("run.end", run, Json.object().put("status", status));
  }

  /** {@code control.ack}: an agent's answer to control {@code controlId}. */
  public static Event.ControlAck controlAck(String run, String controlId, boolean consumed) {
    ObjectNode data = Json.object().put("control", controlId).put("consumed", consumed);
    return (Event.ControlAck) of("control.ack", run, data);
  }
}
