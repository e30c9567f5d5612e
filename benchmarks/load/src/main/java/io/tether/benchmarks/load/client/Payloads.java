package io.tether.benchmarks.load.client;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * The bodies the scenarios send. Every JSON message carries its send time as {@code "t":<nanos>}
 * from this JVM's {@link System#nanoTime()}, so a subscriber in the same JVM measures
 * append-to-delivery latency without clock skew.
 */
public final class Payloads {
  private static final String[] TOKENS = {"The", " quick", " brown", " fox", " jumps", " over",
      " the", " lazy", " dog", ".", " Durable", " streams", " resume", " where", " they", " left"};

  private Payloads() {}

  /**
   * One model-like token delta, about 90 bytes: a valid session event ({@code message.delta}
   * with the {@code data.id} of its message and its {@code data.text}), since Tether refuses an
   * item that claims a core session type without them, plus the generator's own fields.
   */
  public static String tokenDelta(int stream, long seq, long sentNanos) {
    return "{\"type\":\"message.delta\",\"data\":{\"id\":\"m" + stream + "\",\"text\":\""
        + TOKENS[(int) (seq % TOKENS.length)] + "\"},\"s\":" + stream + ",\"n\":" + seq
        + ",\"t\":" + sentNanos + "}";
  }

  /** A JSON array of encoded messages: one POST, several messages (JSON mode flattens it). */
  public static byte[] jsonArray(List<String> messages) {
    StringBuilder b = new StringBuilder(messages.size() * 72 + 2).append('[');
    for (int i = 0; i < messages.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(messages.get(i));
    }
    return b.append(']').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A small JSON message of about {@code size} bytes, padded with text. */
  public static String smallEvent(long seq, long sentNanos, int size) {
    String head = "{\"n\":" + seq + ",\"t\":" + sentNanos + ",\"d\":\"";
    int pad = Math.max(0, size - head.length() - 2);
    return head + "x".repeat(pad) + "\"}";
  }

  /** {@code size} random bytes (incompressible, like encrypted or media payloads). */
  public static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
