package io.tether.http.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates the event envelopes clients write into a session, and completes those published
 * over the WebSocket: a missing {@code producer} becomes the connection's device, a missing
 * {@code time} the server's clock. Types are dotted lower-case names (or {@code message}, a
 * whole message); the core types of {@code docs/protocol.md} have their fields checked, other
 * well-formed types (harness extensions such as {@code run.phase}) pass as they are. Presence and
 * control requests are written by the session only ({@code reserved-type}).
 *
 * <p>The same rules hold on both transports: a WebSocket {@code publish} must be envelopes; a
 * Durable Streams append to a JSON stream may carry any JSON (a session is one use of a JSON
 * stream), but an item that claims a core session type is checked like a publish.
 */
public final class EnvelopeRules {
  private EnvelopeRules() {}

  /**
   * Why an event may not be written.
   *
   * @param code {@code invalid-event} or {@code reserved-type}
   * @param detail what is wrong
   */
  public record Problem(String code, String detail) {}

  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+");
  private static final Set<String> NEEDS_RUN = Set.of("run.start", "run.end", "tool.call",
      "tool.result", "control.ack");
  private static final Set<String> MESSAGE_END = Set.of("complete", "cancelled", "error");
  private static final Set<String> RUN_END = Set.of("complete", "cancelled", "error", "lost");

  private static final Set<String> CORE_PREFIXES = Set.of("message.", "run.", "tool.",
      "control.", "presence.");

  /** Why {@code event} may not be published, or null when it may. */
  static Problem check(JsonNode event) {
    String detail = problem(event);
    if (detail == null) {
      return null;
    }
    String type = event.path("type").asText("");
    return new Problem(reserved(type) ? "reserved-type" : "invalid-event", detail);
  }

  /**
   * Why an item appended over Durable Streams HTTP to a JSON stream may not be written, or null:
   * only items that claim a core session type (an object whose {@code type} is {@code message}
   * or starts with {@code message.}, {@code run.}, {@code tool.}, {@code control.} or
   * {@code presence.}) are checked; any other JSON passes.
   */
  public static Problem checkAppended(JsonNode item) {
    if (item == null || !item.isObject() || !item.path("type").isTextual()) {
      return null;
    }
    String type = item.get("type").asText();
    boolean core = type.equals("message");
    for (String prefix : CORE_PREFIXES) {
      core |= type.startsWith(prefix);
    }
    return core ? check(item) : null;
  }

  private static boolean reserved(String type) {
    return type.startsWith("presence.") || type.equals("control.cancel")
        || type.equals("control.steer") || type.equals("control.interrupt");
  }

  /** Why {@code event} is not a valid envelope, or null when it is. */
  static String problem(JsonNode event) {
    if (event == null || !event.isObject()) {
      return "an event is a JSON object";
    }
    JsonNode typeNode = event.get("type");
    if (typeNode == null || !typeNode.isTextual() || !(typeNode.asText().equals("message")
        || TYPE.matcher(typeNode.asText()).matches())) {
      return "an event needs a dotted lower-case 'type' (e.g. message.delta)";
    }
    String type = typeNode.asText();
    if (reserved(type)) {
      return type + " is written by the session; use the control frames";
    }
    for (String field : new String[] {"run", "step", "producer", "time"}) {
      JsonNode v = event.get(field);
      if (v != null && !v.isNull() && !v.isTextual()) {
        return "'" + field + "' must be a string";
      }
    }
    JsonNode data = event.get("data");
    if (data != null && !data.isObject()) {
      return "'data' must be an object";
    }
    if (NEEDS_RUN.contains(type) && !event.path("run").isTextual()) {
      return type + " needs a 'run'";
    }
    if ((type.equals("message") || type.startsWith("message."))
        && !(event.path("data").path("id").isTextual()
            && !event.path("data").path("id").asText().isEmpty())) {
      return type + " needs data.id (the message it belongs to)";
    }
    switch (type) {
      case "message":
        if (!event.path("data").path("text").isTextual()) {
          return "message needs data.text";
        }
        return statusProblem(event, MESSAGE_END);
      case "message.delta":
        return event.path("data").path("text").isTextual() ? null
            : "message.delta needs data.text";
      case "message.end":
        return statusProblem(event, MESSAGE_END);
      case "run.end":
        return statusProblem(event, RUN_END);
      case "control.ack":
        if (!event.path("data").path("consumed").isBoolean()) {
          return "control.ack needs data.consumed (true or false)";
        }
        return event.path("data").path("control").isTextual() ? null
            : "control.ack needs data.control (the id of the control it answers)";
      default:
        return null;
    }
  }

  /** The event with {@code producer} and {@code time} filled in when missing. */
  static ObjectNode complete(JsonNode event, String device) {
    ObjectNode copy = ((ObjectNode) event).deepCopy();
    if (!copy.path("producer").isTextual()) {
      copy.put("producer", device);
    }
    if (!copy.path("time").isTextual()) {
      copy.put("time", Instant.now().toString());
    }
    if (!copy.has("data")) {
      copy.putObject("data");
    }
    return copy;
  }

  private static String statusProblem(JsonNode event, Set<String> allowed) {
    JsonNode status = event.path("data").path("status");
    if (status.isMissingNode()) {
      return null;
    }
    return status.isTextual() && allowed.contains(status.asText()) ? null
        : event.get("type").asText() + " status is one of " + allowed;
  }
}
