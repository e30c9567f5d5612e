package io.tether.benchmarks.client;

import java.util.function.LongConsumer;

/**
 * Finds the send timestamps that {@link Payloads} embeds as {@code "t":<nanos>} in every message,
 * without parsing JSON: at 100,000 deliveries a second a full parse would cost the load
 * generator more CPU than the servers under test spend.
 */
public final class TimestampScanner {
  private static final String KEY = "\"t\":";

  private TimestampScanner() {}

  /** Calls {@code each} once per message in {@code text}, with its send time; returns the count. */
  public static int scan(CharSequence text, LongConsumer each) {
    String s = text.toString();
    int count = 0;
    int i = s.indexOf(KEY);
    while (i >= 0) {
      int j = i + KEY.length();
      long value = 0;
      int start = j;
      while (j < s.length()) {
        char c = s.charAt(j);
        if (c < '0' || c > '9') {
          break;
        }
        value = value * 10 + (c - '0');
        j++;
      }
      if (j > start) {
        each.accept(value);
        count++;
      }
      i = s.indexOf(KEY, j);
    }
    return count;
  }

  /** The same scan over raw UTF-8 bytes (catch-up bodies). */
  public static int scan(byte[] body, LongConsumer each) {
    return scan(new String(body, java.nio.charset.StandardCharsets.UTF_8), each);
  }
}
