package io.tether.benchmarks.jmh;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Stream items as Tether stores them in JSON mode: compact JSON objects (Jackson re-serializes
 * every message, so stored items have no whitespace and no raw line breaks) of an exact size.
 * Each item differs in its sequence number, as token deltas do.
 */
public final class Payloads {
  private Payloads() {}

  /** The size of a model token delta such as {@code {"t":1732633700123,"n":42,"delta":"Hel"}}. */
  public static final int TOKEN_DELTA_BYTES = 60;

  /** A larger structured event (a tool call, a rolled-up message). */
  public static final int EVENT_BYTES = 4096;

  /** One JSON object of exactly {@code bytes} bytes (at least 40). */
  public static byte[] jsonItem(int bytes, int n) {
    String head = "{\"t\":1732633700123,\"n\":" + n + ",\"delta\":\"";
    String tail = "\"}";
    int fill = bytes - head.length() - tail.length();
    if (fill < 1) {
      throw new IllegalArgumentException("a JSON item needs at least " + (head.length() + 3)
          + " bytes, not " + bytes);
    }
    StringBuilder text = new StringBuilder(bytes).append(head);
    String words = "the quick brown fox jumps over the lazy dog ";
    for (int i = 0; i < fill; i++) {
      text.append(words.charAt((i + n) % words.length()));
    }
    byte[] out = text.append(tail).toString().getBytes(StandardCharsets.UTF_8);
    if (out.length != bytes) {
      throw new IllegalStateException("item is " + out.length + " bytes, wanted " + bytes);
    }
    return out;
  }

  /** {@code count} distinct JSON items of {@code bytes} bytes each. */
  public static List<byte[]> jsonItems(int count, int bytes) {
    List<byte[]> items = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      items.add(jsonItem(bytes, 1000 + i));
    }
    return List.copyOf(items);
  }

  /** A JSON-mode append body: the items as one JSON array, as a batching client sends them. */
  public static byte[] jsonArrayBody(List<byte[]> items) {
    StringBuilder body = new StringBuilder("[");
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append(new String(items.get(i), StandardCharsets.UTF_8));
    }
    return body.append(']').toString().getBytes(StandardCharsets.UTF_8);
  }
}
