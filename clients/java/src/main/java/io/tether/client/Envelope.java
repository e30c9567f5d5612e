package io.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * The envelope every session event has: {@code {type, run, step, producer, time, data}}. The
 * offset is not part of it: it is the event's position in the stream, added on delivery
 * ({@link SessionEvent}).
 *
 * <p>{@code data} is the event's own JSON object; treat it as read-only (the client never
 * copies it on the way in).
 *
 * @param type a dotted lower-case type such as {@code message.delta}
 * @param run the run the event belongs to, or null
 * @param step the step within the run, or null
 * @param producer who wrote it (the server fills in the connection's device for a WebSocket
 *     publish, {@link IdempotentProducer} fills in its device), or null
 * @param time an ISO-8601 instant, or null (filled in the same way as {@code producer})
 * @param data the event's payload, never null
 */
public record Envelope(String type, String run, String step, String producer, String time,
    ObjectNode data) {

  /** Checks that {@code type} is given; a missing {@code data} becomes an empty object. */
  public Envelope {
    Objects.requireNonNull(type, "type");
    data = data == null ? Json.object() : data;
  }

  /** The envelope with {@code producer} and {@code time} filled in where they are missing. */
  public Envelope completed(String defaultProducer, String now) {
    return new Envelope(type, run, step, producer != null ? producer : defaultProducer,
        time != null ? time : now, data);
  }

  /** The envelope as the JSON object that goes on the wire. */
  public ObjectNode toJson() {
    ObjectNode out = Json.object();
    out.put("type", type);
    if (run != null) {
      out.put("run", run);
    }
    if (step != null) {
      out.put("step", step);
    }
    if (producer != null) {
      out.put("producer", producer);
    }
    if (time != null) {
      out.put("time", time);
    }
    out.set("data", data);
    return out;
  }

  /**
   * Reads an envelope from its JSON object.
   *
   * @throws IllegalArgumentException when it is not an object with a string {@code type}
   */
  public static Envelope fromJson(JsonNode node) {
    if (node == null || !node.isObject() || Json.text(node, "type") == null) {
      throw new IllegalArgumentException("an event is a JSON object with a string 'type'");
    }
    JsonNode data = node.get("data");
    return new Envelope(Json.text(node, "type"), Json.text(node, "run"), Json.text(node, "step"),
        Json.text(node, "producer"), Json.text(node, "time"),
        data != null && data.isObject() ? (ObjectNode) data : Json.object());
  }

  /** The text of a field of {@code data}, or null. */
  public String dataText(String field) {
    return Json.text(data, field);
  }
}
