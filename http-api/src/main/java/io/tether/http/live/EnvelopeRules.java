package io.tether.http.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates the event envelopes a WebSocket client publishes, and completes them: a missing
 * {@code producer} becomes the connection's device, a missing {@code time} the server's clock.
 * Types are dotted lower-case names; the core types of {@code docs/protocol.md} have their fields
 * checked, other well-formed types (harness extensions such as {@code run.phase}) pass as they
 * are. Presence and control requests are written by the session only.
 */
final class EnvelopeRules {
  private EnvelopeRules() {}

  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+");
  private static final Set<String> NEEDS_RUN = Set.of("run.start", "run.end", "tool.call",
      "tool.result", "control.ack");
  private static final Set<String> MESSAGE_END = Set.of("complete", "cancelled", "error");
  private static final Set<String> RUN_END = Set.of("complete", "cancelled", "error", "lost");

  /** Why {@code event} is not a valid envelope, or null when it is. */
  static String problem(JsonNode event) {
    if (event == null || !event.isObject()) {
      return "an event is a JSON object";
    }
    JsonNode typeNode = event.get("type");
    if (typeNode == null || !typeNode.isTextual() || !TYPE.matcher(typeNode.asText()).matches()) {
      return "an event needs a dotted lower-case 'type' (e.g. message.delta)";
    }
    String type = typeNode.asText();
    if (type.startsWith("presence.") || type.equals("control.cancel")
        || type.equals("control.steer") || type.equals("control.interrupt")) {
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
    switch (type) {
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
