package io.tether.http.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.Offset;
import io.tether.actors.session.SessionEnvelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rolls token deltas up into whole messages for the {@code message} granularity of a history
 * replay: {@code message.start}, its deltas and {@code message.end} become one {@code message}
 * event at the offset of the end, with {@code data.text} the start's text followed by every
 * delta's, and {@code data.status} from the end. Messages still open when the replay reaches the
 * live tail are flushed as one {@code message.start} carrying the text so far, at the offset of
 * the last event folded into it; live deltas then follow as they are. A message is keyed by
 * {@link SessionEnvelope#messageKey()}. Everything else passes through unchanged.
 *
 * <p>Order: every frame carries one offset and frames leave strictly in offset order. An event
 * that follows the start of a message still open is held until that message's own frame is
 * placed (at its end, or at the flush), so a rolled-up message never arrives after a later
 * event. Nothing at or below the {@code watermark} (what the client already has) leaves: a
 * resume after an offset inside a message replays from the message's start (see
 * {@code Session.Rewind}) so the message arrives whole, without repeating what came before.
 *
 * <p>One instance per catch-up of one connection; not thread-safe.
 */
final class MessageRollup {

  private static final class Open {
    final ObjectNode start;
    final StringBuilder text;
    final Offset first;
    Offset last;

    Open(ObjectNode start, String text, Offset first) {
      this.start = start;
      this.text = new StringBuilder(text == null ? "" : text);
      this.first = first;
      this.last = first;
    }
  }

  /** An event to send: its offset and its JSON. */
  record Emitted(Offset offset, String event) {}

  private final Offset watermark;
  private final Map<String, Open> open = new LinkedHashMap<>();
  private final TreeMap<Offset, String> held = new TreeMap<>();

  /** A rollup that emits nothing at or below {@code watermark}. */
  MessageRollup(Offset watermark) {
    this.watermark = watermark;
  }

  /** The events that may leave after one replayed item, in offset order (often none). */
  List<Emitted> accept(Offset offset, byte[] item) {
    var parsed = SessionEnvelope.forRollup(item);
    if (parsed.isEmpty() || !parsed.get().type().startsWith("message.")) {
      held.put(offset, json(item));
      return release();
    }
    SessionEnvelope e = parsed.get();
    String key = e.messageKey();
    switch (e.type()) {
      case "message.start" -> {
        Open previous = open.remove(key);
        if (previous != null) { // restarted without an end: what it had stands as it was
          held.put(previous.last, partial(previous));
        }
        try {
          ObjectNode start = (ObjectNode) SessionEnvelope.JSON.readTree(item);
          open.put(key, new Open(start, e.dataText("text"), offset));
        } catch (java.io.IOException | ClassCastException ex) {
          held.put(offset, json(item));
        }
      }
      case "message.delta" -> {
        Open o = open.get(key);
        if (o == null) {
          held.put(offset, json(item));
        } else {
          o.text.append(e.dataText("text") == null ? "" : e.dataText("text"));
          o.last = offset;
        }
      }
      case "message.end" -> {
        Open o = open.remove(key);
        if (o == null) {
          held.put(offset, json(item));
        } else {
          ObjectNode whole = o.start.deepCopy();
          whole.put("type", "message");
          ObjectNode data = whole.with("data");
          data.put("text", o.text.toString());
          JsonNode status = e.data().get("status");
          data.put("status", status != null && status.isTextual() ? status.asText() : "complete");
          held.put(offset, whole.toString());
        }
      }
      default -> held.put(offset, json(item));
    }
    return release();
  }

  /** Flushes messages still open as {@code message.start} with their text so far, and all else. */
  List<Emitted> flush() {
    for (Open o : open.values()) {
      held.put(o.last, partial(o));
    }
    open.clear();
    return release();
  }

  private static String partial(Open o) {
    ObjectNode partial = o.start.deepCopy();
    partial.with("data").put("text", o.text.toString());
    return partial.toString();
  }

  private static String json(byte[] item) {
    return new String(item, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The held frames before the first open message's start, which nothing can precede now. */
  private List<Emitted> release() {
    Offset floor = null;
    for (Open o : open.values()) {
      if (floor == null || o.first.isBefore(floor)) {
        floor = o.first;
      }
    }
    List<Emitted> events = new ArrayList<>();
    while (!held.isEmpty() && (floor == null || held.firstKey().isBefore(floor))) {
      var first = held.pollFirstEntry();
      if (first.getKey().isAfter(watermark)) {
        events.add(new Emitted(first.getKey(), first.getValue()));
      }
    }
    return events;
  }
}
