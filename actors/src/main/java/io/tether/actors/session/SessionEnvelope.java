package io.tether.actors.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * The fields of a JSON session item that session semantics act on: the event envelope
 * {@code {type, run, step, producer, time, data}} of DESIGN.md section 3. The item's bytes stay
 * exactly as appended; this is only a read-only view of them, and items that are not envelopes
 * (any JSON that is not an object with a string {@code type}) have none.
 *
 * @param type the event type, e.g. {@code message.delta}
 * @param run the run id, or null
 * @param producer the producer (a device or agent id), or null
 * @param data the data object, never null (empty when absent)
 */
public record SessionEnvelope(String type, String run, String producer, JsonNode data) {

  /** The mapper of envelope bodies; thread-safe once configured. */
  public static final ObjectMapper JSON = new ObjectMapper();

  /** The producer name of events the session itself writes (presence, loss, cancellations). */
  public static final String SERVER_PRODUCER = "tether";

  /** A text field of {@code data}, or null. */
  public String dataText(String field) {
    JsonNode value = data.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  /** Whether only the session itself may write this type (presence and control requests). */
  public boolean serverOnly() {
    return type.startsWith("presence.") || type.equals("control.cancel")
        || type.equals("control.steer") || type.equals("control.interrupt");
  }

  /** The envelope of an item, or empty when the item is not one. Never throws. */
  public static Optional<SessionEnvelope> of(byte[] item) {
    if (!looksLikeEnvelope(item)) {
      return Optional.empty();
    }
    try {
      return of(JSON.readTree(item));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The envelope of a parsed item, or empty when it is not one. */
  public static Optional<SessionEnvelope> of(JsonNode node) {
    if (node == null || !node.isObject() || !node.path("type").isTextual()) {
      return Optional.empty();
    }
    JsonNode data = node.get("data");
    return Optional.of(new SessionEnvelope(node.get("type").asText(), text(node, "run"),
        text(node, "producer"), data != null && data.isObject() ? data : JSON.createObjectNode()));
  }

  /** Mints an event the session writes itself, stamped with the current time. */
  public static byte[] mint(String type, String run, String producer, ObjectNode data) {
    ObjectNode e = JSON.createObjectNode();
    e.put("type", type);
    if (run != null) {
      e.put("run", run);
    }
    e.put("producer", producer);
    e.put("time", Instant.now().toString());
    e.set("data", data == null ? JSON.createObjectNode() : data);
    try {
      return JSON.writeValueAsBytes(e);
    } catch (IOException ex) {
      throw new IllegalStateException("an object node always serializes", ex);
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  /** Cheap pre-check so that large non-envelope payloads are never parsed. */
  private static boolean looksLikeEnvelope(byte[] item) {
    int i = 0;
    while (i < item.length && Character.isWhitespace(item[i])) {
      i++;
    }
    if (i >= item.length || item[i] != '{') {
      return false;
    }
    int window = Math.min(item.length, 4096);
    for (int j = i; j + 6 <= window; j++) {
      if (item[j] == '"' && item[j + 1] == 't' && item[j + 2] == 'y' && item[j + 3] == 'p'
          && item[j + 4] == 'e' && item[j + 5] == '"') {
        return true;
      }
    }
    return item.length > window;
  }
}
