package io.tether.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The JSON frames of the session WebSocket ({@code GET /v1/sessions/{id}/ws}), both directions,
 * as the server's README documents them. {@link TetherSession} speaks them for you; they are
 * public for tools that drive a socket themselves.
 */
public final class Frames {
  private Frames() {}

  // --- client to server ------------------------------------------------------------------------

  /** A frame the client sends. */
  public sealed interface ClientFrame permits Resume, Publish, Cancel, Steer, Interrupt, Ack, Ping {
    /** The frame's JSON object. */
    ObjectNode toJson();
  }

  /**
   * Start (or restart) delivery after an offset.
   *
   * @param after {@link Offsets#BEGINNING}, {@link Offsets#NOW} or an offset
   * @param granularity {@code delta} or {@code message}
   * @param device the device this connection speaks for
   * @param kind {@code client} or {@code agent}
   */
  public record Resume(String after, String granularity, String device, String kind)
      implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      ObjectNode o = frame("resume", null).put("after", after).put("granularity", granularity)
          .put("kind", kind);
      if (device != null) {
        o.put("device", device);
      }
      return o;
    }
  }

  /**
   * Append events atomically (one group commit); answered {@code published} or {@code error}.
   * With a producer id and sequence the server writes it once however often it is sent (a
   * resend after a dropped connection is answered {@code published} with {@code duplicate}).
   */
  public record Publish(String id, List<Event> events, String producerId, long producerSeq)
      implements ClientFrame {

    /** A publish without idempotency. */
    public Publish(String id, List<Event> events) {
      this(id, events, null, 0);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = frame("publish", id);
      if (producerId != null) {
        o.put("producerId", producerId).put("producerEpoch", 0).put("producerSeq", producerSeq);
      }
      ArrayNode array = o.putArray("events");
      for (Event e : events) {
        array.add(e.envelope().toJson());
      }
      return o;
    }
  }

  /** Cancel a run, or the run answering input message {@code message}; answered {@code cancelled}. */
  public record Cancel(String id, String run, String message) implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      ObjectNode o = frame("cancel", id);
      if (run != null) {
        o.put("run", run);
      }
      if (message != null) {
        o.put("message", message);
      }
      return o;
    }
  }

  /** Steer a running run; answered {@code control-accepted}. */
  public record Steer(String id, String run, String text) implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      return frame("steer", id).put("run", run).put("text", text);
    }
  }

  /** Interrupt a running run; answered {@code control-accepted}. */
  public record Interrupt(String id, String run) implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      return frame("interrupt", id).put("run", run);
    }
  }

  /**
   * Move a device's read cursor. Servers with session protocol change (a) answer
   * {@code acked}; older ones answer nothing.
   */
  public record Ack(String id, String device, String offset) implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      ObjectNode o = frame("ack", id).put("offset", offset);
      if (device != null) {
        o.put("device", device);
      }
      return o;
    }
  }

  /** Liveness; answered {@code pong}. */
  public record Ping(String id) implements ClientFrame {
    @Override
    public ObjectNode toJson() {
      return frame("ping", id);
    }
  }

  /** The frame's text. */
  public static String render(ClientFrame frame) {
    return Json.write(frame.toJson());
  }

  private static ObjectNode frame(String type, String id) {
    ObjectNode o = Json.object().put("type", type);
    if (id != null) {
      o.put("id", id);
    }
    return o;
  }

  // --- server to client ------------------------------------------------------------------------

  /** A frame the server sends. */
  public sealed interface ServerFrame permits EventFrame, UpToDate, Published, Cancelled,
      ControlAccepted, Acked, Error, Pong, Unknown {}

  /** One event at its offset, strictly in offset order. */
  public record EventFrame(String offset, Event event) implements ServerFrame {}

  /** The replay is done; live from here. */
  public record UpToDate(String offset) implements ServerFrame {}

  /** A publish is durable; {@code offset} is that of the batch's last event. */
  public record Published(String id, String offset) implements ServerFrame {}

  /** A cancel is durable; {@code fence} is the offset of its {@code control.cancel} event. */
  public record Cancelled(String id, String fence) implements ServerFrame {}

  /** A steer or interrupt is durable at {@code offset}. */
  public record ControlAccepted(String id, String offset) implements ServerFrame {}

  /** A cursor move was taken ({@code offset} is the cursor). */
  public record Acked(String id, String offset) implements ServerFrame {}

  /**
   * A refusal; the connection stays usable unless the server closes it.
   *
   * @param id the id of the frame it answers, or null
   * @param code e.g. {@code fenced}, {@code not-running}, {@code invalid-event}
   * @param detail a sentence for people
   */
  public record Error(String id, String code, String detail) implements ServerFrame {}

  /** The answer to a ping. */
  public record Pong(String id) implements ServerFrame {}

  /** A frame type this client does not know (a newer server); ignored. */
  public record Unknown(String type, JsonNode frame) implements ServerFrame {}

  /**
   * Parses a server frame.
   *
   * @throws IllegalArgumentException when the text is not a JSON object with a string type, or
   *     an {@code event} frame carries no valid event
   */
  public static ServerFrame parse(String text) {
    JsonNode node;
    try {
      node = Json.read(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
    String type = Json.text(node, "type");
    if (type == null) {
      throw new IllegalArgumentException("a frame is a JSON object with a string 'type'");
    }
    String id = Json.text(node, "id");
    String offset = Json.text(node, "offset");
    switch (type) {
      case "event":
        if (offset == null) {
          throw new IllegalArgumentException("an event frame needs an offset");
        }
        return new EventFrame(offset, Event.fromJson(node.get("event")));
      case "up-to-date":
        return new UpToDate(offset);
      case "published":
        return new Published(id, offset);
      case "cancelled":
        return new Cancelled(id, Json.text(node, "fence"));
      case "control-accepted":
        return new ControlAccepted(id, offset);
      case "acked":
        return new Acked(id, offset);
      case "error":
        return new Error(id, Json.text(node, "code"), Json.text(node, "detail"));
      case "pong":
        return new Pong(id);
      default:
        return new Unknown(type, node);
    }
  }
}
