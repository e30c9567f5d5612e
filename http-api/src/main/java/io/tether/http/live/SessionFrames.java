package io.tether.http.live;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.actors.session.Offset;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON frames of the session WebSocket ({@code /v1/sessions/{id}/ws}), both directions, and
 * the mapping between them and the session entity's replies. The wire format is independent of
 * the entity's messages so either can evolve; the README documents it with an example exchange.
 *
 * <p>Client to server: {@code resume}, {@code publish}, {@code cancel}, {@code steer},
 * {@code interrupt}, {@code ack}, {@code ping}. Server to client: {@code event},
 * {@code up-to-date}, {@code published}, {@code cancelled}, {@code control-accepted},
 * {@code acked}, {@code error}, {@code pong}. Every frame is an object with a {@code type};
 * {@code docs/protocol.md} is the reference.
 */
final class SessionFrames {
  private SessionFrames() {}

  static final ObjectMapper JSON = new ObjectMapper();

  /** A frame a client sent. */
  sealed interface ClientFrame permits Resume, Publish, Cancel, Steer, Interrupt, Ack, Ping {}

  /**
   * Start (or restart) delivery after an offset.
   *
   * @param after {@code -1} for the beginning, {@code now} for the tail, or an offset
   * @param granularity {@code delta} (raw) or {@code message} (history rolled up)
   * @param device the device this connection speaks for
   * @param kind {@code client} or {@code agent}
   * @param batch whether events may come several to a frame ({@code events} frames)
   */
  record Resume(String after, String granularity, String device, String kind, boolean batch)
      implements ClientFrame {}

  /**
   * Append events (envelopes) to the session; with {@code producer}, idempotently: a publish
   * sent again with the same producer id, epoch and sequence (after a dropped connection) is
   * acknowledged as a duplicate and not written twice.
   */
  record Publish(String id, List<JsonNode> events, ProducerTuple producer)
      implements ClientFrame {}

  /** Cancel a run, or the run answering an input message. */
  record Cancel(String id, String run, String message) implements ClientFrame {}

  /** Inject a message into a running run. */
  record Steer(String id, String run, String text) implements ClientFrame {}

  /** Ask a running run to stop its current step and wait for input. */
  record Interrupt(String id, String run) implements ClientFrame {}

  /** Move a device's read cursor; answered with {@code acked} (naming {@code id} if given). */
  record Ack(String id, String device, String offset) implements ClientFrame {}

  /** Application-level liveness check; answered with {@code pong}. */
  record Ping(String id) implements ClientFrame {}

  /** A frame that could not be understood: answered with an error frame, nothing else. */
  static final class BadFrame extends Exception {
    final String id;

    BadFrame(String id, String detail) {
      super(detail, null, false, false);
      this.id = id;
    }
  }

  /** Parses one text frame. */
  static ClientFrame parse(String text) throws BadFrame {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BadFrame(null, "the frame is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadFrame(null, "a frame is a JSON object");
    }
    String id = optText(node, "id");
    String type = optText(node, "type");
    if (type == null) {
      throw new BadFrame(id, "a frame needs a string 'type'");
    }
    switch (type) {
      case "resume": {
        String after = node.has("after") ? node.get("after").asText() : "-1";
        String granularity = orDefault(optText(node, "granularity"), "delta");
        if (!granularity.equals("delta") && !granularity.equals("message")) {
          throw new BadFrame(id, "granularity is 'delta' or 'message'");
        }
        String kind = orDefault(optText(node, "kind"), "client");
        if (!kind.equals("client") && !kind.equals("agent")) {
          throw new BadFrame(id, "kind is 'client' or 'agent'");
        }
        JsonNode batch = node.get("batch");
        if (batch != null && !batch.isBoolean()) {
          throw new BadFrame(id, "batch is true or false");
        }
        return new Resume(after, granularity, optText(node, "device"), kind,
            batch != null && batch.asBoolean());
      }
      case "publish": {
        JsonNode events = node.get("events");
        if (events == null || !events.isArray() || events.isEmpty()) {
          throw new BadFrame(id, "publish needs a non-empty 'events' array");
        }
        List<JsonNode> list = new ArrayList<>();
        events.forEach(list::add);
        return new Publish(id, list, producer(node, id));
      }
      case "cancel": {
        String run = optText(node, "run");
        String message = optText(node, "message");
        if (run == null && message == null) {
          throw new BadFrame(id, "cancel needs 'run' or 'message'");
        }
        return new Cancel(id, run, message);
      }
      case "steer":
        return new Steer(id, required(node, "run", id), required(node, "text", id));
      case "interrupt":
        return new Interrupt(id, required(node, "run", id));
      case "ack":
        return new Ack(id, optText(node, "device"), required(node, "offset", id));
      case "ping":
        return new Ping(id);
      default:
        throw new BadFrame(id, "unknown frame type '" + type + "'");
    }
  }

  // --- server frames ---------------------------------------------------------------------------

  /** An event with its offset; the item's bytes are embedded as they are (they are JSON). */
  static String event(Offset offset, byte[] item) {
    int slot = System.identityHashCode(item) & (SHARED_FRAMES.length - 1);
    SharedFrame shared = SHARED_FRAMES[slot];
    if (shared != null && shared.item == item && shared.offset.equals(offset)) {
      return shared.frame;
    }
    String frame = "{\"type\":\"event\",\"offset\":\"" + offset.encode() + "\",\"event\":"
        + new String(item, StandardCharsets.UTF_8) + "}";
    SHARED_FRAMES[slot] = new SharedFrame(item, offset, frame);
    return frame;
  }

  /**
   * The frames built most recently, by the identity of the item: a live push reaches every
   * connection of a session on this node with the same item arrays, so with many subscribers
   * the frame is built once instead of once per connection. Entries are immutable (published
   * safely through final fields) and a lost race only costs a rebuild.
   */
  private static final SharedFrame[] SHARED_FRAMES = new SharedFrame[4096];

  private record SharedFrame(byte[] item, Offset offset, String frame) {}

  /** An event given as JSON text (a rolled-up message, or an item already decoded). */
  static String event(Offset offset, String event) {
    return "{\"type\":\"event\",\"offset\":\"" + offset.encode() + "\",\"event\":" + event + "}";
  }

  /**
   * Several events in one frame, for connections that resumed with {@code batch: true}:
   * {@code {"type":"events","events":[{"offset":..,"event":..},..]}}, in offset order. Built
   * incrementally so a replay page becomes a few frames instead of one per event.
   */
  static final class Batch {
    // Made for each frame and dropped with it: kept, an idle socket would hold its largest
    // frame's buffer (up to a 64 KiB batch) for as long as it stays connected.
    private StringBuilder json;
    private int count;

    void add(Offset offset, String event) {
      if (json == null) {
        json = new StringBuilder(256 + event.length());
      }
      json.append(count == 0 ? "{\"type\":\"events\",\"events\":[" : ",")
          .append("{\"offset\":\"").append(offset.encode()).append("\",\"event\":")
          .append(event).append('}');
      count++;
    }

    boolean isEmpty() {
      return count == 0;
    }

    int length() {
      return json == null ? 0 : json.length();
    }

    /** The frame (of at least one event), and an empty batch again. */
    String take() {
      String frame = json.append("]}").toString();
      clear();
      return frame;
    }

    /** Drops what the batch holds. */
    void clear() {
      json = null;
      count = 0;
    }
  }

  static String upToDate(Offset offset) {
    return render(new OffsetFrame("up-to-date", null, offset.encode()));
  }

  static String published(String id, Offset offset) {
    return render(new OffsetFrame("published", id, offset.encode()));
  }

  /** A publish sent again that was already written: nothing new, the stream's tail then. */
  static String publishedDuplicate(String id, Offset tail) {
    return render(new DuplicateFrame("published", id, tail.encode(), true));
  }

  static String cancelled(String id, Offset fence) {
    return render(new FenceFrame("cancelled", id, fence.encode()));
  }

  static String controlAccepted(String id, Offset offset) {
    return render(new OffsetFrame("control-accepted", id, offset.encode()));
  }

  static String acked(String id, Offset offset) {
    return render(new OffsetFrame("acked", id, offset.encode()));
  }

  static String pong(String id) {
    return render(new OffsetFrame("pong", id, null));
  }

  static String error(String id, String code, String detail) {
    return render(new ErrorFrame("error", id, code, detail));
  }

  /** A publish refused by the token's append rate: retry after {@code retryAfter} seconds. */
  static String rateLimited(String id, String detail, long retryAfter) {
    return render(new RateLimitedFrame("error", id, "rate-limited", detail, retryAfter));
  }

  /** The error frame for a refused append. */
  static String appendRefused(String id, Session.AppendRejected rejected) {
    return switch (rejected.failure()) {
      case FENCED -> error(id, "fenced",
          "output for a run that was cancelled or lost is refused");
      case RESERVED_TYPE -> error(id, "reserved-type",
          "presence and control requests are written by the session; use the control frames");
      case CLOSED -> error(id, "closed", "the session is closed");
      case NOT_FOUND -> error(id, "not-found", "no such session");
      case GONE -> error(id, "gone", "the session has been deleted");
      case OVERLOADED -> error(id, "overloaded", "the session is busy; retry shortly");
      case JOURNAL_UNAVAILABLE -> error(id, "unavailable",
          "the session could not persist the batch; nothing of it was stored; retry shortly");
      case SEQUENCE_GAP -> error(id, "sequence-gap", "producerSeq " + rejected.receivedSeq()
          + " skips ahead; the next is " + rejected.expectedSeq());
      case STALE_EPOCH -> error(id, "stale-epoch", "producerEpoch is older than "
          + rejected.producerEpoch() + ": a newer writer took over this producer id");
      case INVALID_EPOCH_SEQ -> error(id, "invalid-epoch-seq",
          "a new producerEpoch starts at producerSeq 0");
      default -> error(id, "refused", "append refused: " + rejected.failure());
    };
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record OffsetFrame(String type, String id, String offset) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record FenceFrame(String type, String id, String fence) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record DuplicateFrame(String type, String id, String offset, boolean duplicate) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ErrorFrame(String type, String id, String code, String detail) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RateLimitedFrame(String type, String id, String code, String detail, long retryAfter) {}

  private static String render(Object frame) {
    try {
      return JSON.writeValueAsString(frame);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("frames always serialize", e);
    }
  }

  /** The idempotent producer of a publish: all of producerId, producerEpoch, producerSeq, or none. */
  private static ProducerTuple producer(JsonNode node, String id) throws BadFrame {
    JsonNode producerId = node.get("producerId");
    JsonNode epoch = node.get("producerEpoch");
    JsonNode seq = node.get("producerSeq");
    if (producerId == null && epoch == null && seq == null) {
      return null;
    }
    if (producerId == null || !producerId.isTextual() || producerId.asText().isEmpty()
        || epoch == null || !epoch.canConvertToLong() || !epoch.isIntegralNumber()
        || epoch.asLong() < 0 || seq == null || !seq.isIntegralNumber()
        || !seq.canConvertToLong() || seq.asLong() < 0) {
      throw new BadFrame(id, "producerId (a non-empty string), producerEpoch and producerSeq "
          + "(non-negative integers) go together");
    }
    return new ProducerTuple(producerId.asText(), epoch.asLong(), seq.asLong());
  }

  private static String optText(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v != null && v.isTextual() ? v.asText() : null;
  }

  private static String required(JsonNode node, String field, String id) throws BadFrame {
    String v = optText(node, field);
    if (v == null || v.isEmpty()) {
      throw new BadFrame(id, "'" + field + "' is required");
    }
    return v;
  }

  private static String orDefault(String v, String fallback) {
    return v == null ? fallback : v;
  }
}
