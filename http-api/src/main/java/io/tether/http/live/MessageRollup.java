package io.tether.http.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.Offset;
import io.tether.actors.session.SessionEnvelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rolls token deltas up into whole messages for the {@code message} granularity of a history
 * replay: {@code message.start}, its deltas and {@code message.end} become one {@code message}
 * event at the offset of the end, with {@code data.text} concatenated and {@code data.status}
 * from the end. Messages still open when the replay reaches the live tail are flushed as one
 * {@code message.start} carrying the text so far; live deltas then follow as they are. A message
 * is keyed by {@code data.id}, or by run, producer and role when it has no id. Everything else
 * passes through unchanged, in order. One instance per connection; not thread-safe.
 */
final class MessageRollup {

  private record Open(ObjectNode start, StringBuilder text, Offset last) {}

  private final Map<String, Open> open = new LinkedHashMap<>();

  /** The frames to send for one replayed item (none while a message is being rolled up). */
  List<String> accept(Offset offset, byte[] item) {
    var parsed = SessionEnvelope.of(item);
    if (parsed.isEmpty() || !parsed.get().type().startsWith("message.")) {
      return List.of(SessionFrames.event(offset, item));
    }
    SessionEnvelope e = parsed.get();
    String key = key(e);
    switch (e.type()) {
      case "message.start": {
        try {
          ObjectNode start = (ObjectNode) SessionEnvelope.JSON.readTree(item);
          open.put(key, new Open(start, new StringBuilder(), offset));
          return List.of();
        } catch (java.io.IOException ex) {
          return List.of(SessionFrames.event(offset, item));
        }
      }
      case "message.delta": {
        Open o = open.get(key);
        if (o == null) {
          return List.of(SessionFrames.event(offset, item));
        }
        o.text().append(e.dataText("text") == null ? "" : e.dataText("text"));
        open.put(key, new Open(o.start(), o.text(), offset));
        return List.of();
      }
      case "message.end": {
        Open o = open.remove(key);
        if (o == null) {
          return List.of(SessionFrames.event(offset, item));
        }
        ObjectNode whole = o.start().deepCopy();
        whole.put("type", "message");
        ObjectNode data = whole.with("data");
        data.put("text", o.text().toString());
        JsonNode status = e.data().get("status");
        data.put("status", status != null && status.isTextual() ? status.asText() : "complete");
        return List.of(SessionFrames.event(offset, whole));
      }
      default:
        return List.of(SessionFrames.event(offset, item));
    }
  }

  /** Flushes messages still open as {@code message.start} with their text so far. */
  List<String> flush() {
    List<String> frames = new ArrayList<>();
    for (Open o : open.values()) {
      ObjectNode partial = o.start().deepCopy();
      partial.with("data").put("text", o.text().toString());
      frames.add(SessionFrames.event(o.last(), partial));
    }
    open.clear();
    return frames;
  }

  private static String key(SessionEnvelope e) {
    String id = e.dataText("id");
    if (id != null) {
      return "id:" + id;
    }
    return e.run() + "|" + e.producer() + "|" + e.dataText("role");
  }
}
