package io.tether.http.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SSE data events are built at the byte level; this pins them to the plain definition (decode,
 * split lines on CRLF, CR or LF, one {@code data:} line each) for random payloads with line
 * breaks, multi-byte characters and invalid UTF-8.
 */
class SseFramesTest {

  /** The definition, written the obvious way. */
  private static String expected(String contentType, List<byte[]> items) {
    StringBuilder out = new StringBuilder("event: data\n");
    if (SseFrames.isBinary(contentType)) {
      out.append("data:").append(Base64.getEncoder().encodeToString(JsonMessages.concat(items)))
          .append('\n');
    } else {
      byte[] payload = contentType.startsWith("application/json")
          ? JsonMessages.asArray(items) : JsonMessages.concat(items);
      for (String line : new String(payload, StandardCharsets.UTF_8).split("\r\n|\r|\n", -1)) {
        out.append("data:").append(line).append('\n');
      }
    }
    return out.append('\n').toString();
  }

  @Test
  void dataEventsMatchTheLineByLineDefinition() {
    Random random = new Random(11);
    byte[][] pieces = {"a".getBytes(StandardCharsets.UTF_8), "\r".getBytes(), "\n".getBytes(),
        "\r\n".getBytes(), "é".getBytes(StandardCharsets.UTF_8),
        "\uD83D\uDE00".getBytes(StandardCharsets.UTF_8), {(byte) 0xC3}, {(byte) 0xFF},
        "{\"k\":1}".getBytes(StandardCharsets.UTF_8), new byte[0]};
    for (String type : List.of("text/plain", "application/json", "application/octet-stream")) {
      for (int round = 0; round < 2_000; round++) {
        List<byte[]> items = new ArrayList<>();
        int count = 1 + random.nextInt(4);
        for (int i = 0; i < count; i++) {
          java.io.ByteArrayOutputStream item = new java.io.ByteArrayOutputStream();
          int parts = random.nextInt(6);
          for (int p = 0; p < parts; p++) {
            item.writeBytes(pieces[random.nextInt(pieces.length)]);
          }
          items.add(item.toByteArray());
        }
        assertEquals(expected(type, items),
            SseFrames.data(type, items).utf8String(), type + " round " + round);
      }
    }
  }

  @Test
  void aJsonBatchIsOneDataLine() {
    assertEquals("event: data\ndata:[{\"a\":1},\"x\"]\n\n", SseFrames.data("application/json",
        List.of("{\"a\":1}".getBytes(), "\"x\"".getBytes())).utf8String());
  }
}
