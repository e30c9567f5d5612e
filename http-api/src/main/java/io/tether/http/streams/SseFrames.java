package io.tether.http.streams;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Server-Sent Events framing for stream reads (protocol section 5.8): {@code data} events carry
 * the items (UTF-8 text for {@code text/*} and JSON streams, base64 otherwise), {@code control}
 * events carry offsets, cursor and state. Every line of a payload becomes its own {@code data:}
 * line (CR, LF and CRLF all end a line), so payload bytes can never inject event boundaries.
 */
final class SseFrames {
  private SseFrames() {}

  /** Whether a stream of this content type is sent base64-encoded over SSE. */
  static boolean isBinary(String contentType) {
    String essence = io.tether.actors.session.Session.essence(contentType);
    return essence == null
        || !(essence.startsWith("text/") || essence.equals("application/json"));
  }

  /** One {@code data} event holding {@code items}. */
  static ByteString data(String contentType, List<byte[]> items) {
    StringBuilder out = new StringBuilder("event: data\n");
    if (isBinary(contentType)) {
      out.append("data:").append(Base64.getEncoder().encodeToString(JsonMessages.concat(items)))
          .append('\n');
    } else {
      byte[] payload = io.tether.actors.session.Session.isJson(contentType)
          ? JsonMessages.asArray(items) : JsonMessages.concat(items);
      String text = new String(payload, StandardCharsets.UTF_8);
      for (String line : text.split("\r\n|\r|\n", -1)) {
        out.append("data:").append(line).append('\n');
      }
    }
    out.append('\n');
    return ByteString.fromString(out.toString(), StandardCharsets.UTF_8);
  }

  /** One {@code control} event. The cursor is left out once the stream is closed. */
  static ByteString control(String nextOffset, String cursor, boolean upToDate, boolean closed) {
    StringBuilder json = new StringBuilder("{\"streamNextOffset\":\"").append(nextOffset)
        .append('"');
    if (!closed) {
      json.append(",\"streamCursor\":\"").append(cursor).append('"');
    }
    if (upToDate || closed) {
      json.append(",\"upToDate\":true");
    }
    if (closed) {
      json.append(",\"streamClosed\":true");
    }
    json.append('}');
    return ByteString.fromString("event: control\ndata:" + json + "\n\n", StandardCharsets.UTF_8);
  }

  /** A comment line that keeps idle connections and proxies alive. */
  static ByteString keepAlive() {
    return ByteString.fromString(": keep-alive\n\n", StandardCharsets.UTF_8);
  }
}
