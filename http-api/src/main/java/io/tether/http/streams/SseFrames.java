package io.tether.http.streams;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
    String essence = io.tether.actors.session.MediaTypes.essence(contentType);
    return essence == null
        || !(essence.startsWith("text/") || essence.equals("application/json"));
  }

  private static final byte[] DATA_EVENT = "event: data\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA_FIELD = "data:".getBytes(StandardCharsets.US_ASCII);

  /**
   * One {@code data} event holding {@code items}. Built at the byte level (every live reader
   * gets one per batch): CR and LF bytes never occur inside a multi-byte UTF-8 sequence, so
   * lines are split on the bytes, and valid UTF-8 is passed through without decoding.
   */
  static ByteString data(String contentType, List<byte[]> items) {
    if (isBinary(contentType)) {
      byte[] base64 = Base64.getEncoder().encode(JsonMessages.concat(items));
      byte[] out = new byte[DATA_EVENT.length + DATA_FIELD.length + base64.length + 2];
      int at = put(out, 0, DATA_EVENT);
      at = put(out, at, DATA_FIELD);
      at = put(out, at, base64);
      out[at++] = '\n';
      out[at] = '\n';
      return ByteString.fromArrayUnsafe(out);
    }
    byte[] payload = io.tether.actors.session.MediaTypes.isJson(contentType)
        ? JsonMessages.asArray(items) : JsonMessages.concat(items);
    if (!validUtf8(payload)) {
      // Text appended as invalid UTF-8 leaves as replacement characters, never as raw bytes.
      payload = new String(payload, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    }
    return ByteString.fromArrayUnsafe(lines(payload));
  }

  /** {@code event: data}, then each line of {@code payload} (CRLF, CR or LF ends one). */
  private static byte[] lines(byte[] payload) {
    int lines = 1;
    int separatorBytes = 0;
    for (int i = 0; i < payload.length; i++) {
      byte b = payload[i];
      if (b == '\r' || b == '\n') {
        lines++;
        separatorBytes++;
        if (b == '\r' && i + 1 < payload.length && payload[i + 1] == '\n') {
          separatorBytes++;
          i++;
        }
      }
    }
    byte[] out = new byte[DATA_EVENT.length + payload.length - separatorBytes
        + lines * (DATA_FIELD.length + 1) + 1];
    int at = put(out, 0, DATA_EVENT);
    int start = 0;
    for (int i = 0; i <= payload.length; i++) {
      boolean end = i == payload.length;
      if (end || payload[i] == '\r' || payload[i] == '\n') {
        at = put(out, at, DATA_FIELD);
        System.arraycopy(payload, start, out, at, i - start);
        at += i - start;
        out[at++] = '\n';
        if (!end && payload[i] == '\r' && i + 1 < payload.length && payload[i + 1] == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    out[at] = '\n';
    return out;
  }

  private static int put(byte[] out, int at, byte[] bytes) {
    System.arraycopy(bytes, 0, out, at, bytes.length);
    return at + bytes.length;
  }

  private static boolean validUtf8(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        try {
          StandardCharsets.UTF_8.newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
          return true;
        } catch (CharacterCodingException e) {
          return false;
        }
      }
    }
    return true; // ASCII
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
