package io.tether.benchmarks.load.client;

import java.util.function.LongConsumer;

/**
 * Finds the send timestamps that {@link Payloads} embeds as {@code "t":<nanos>} in every message
 * (and other integer fields, such as the per-stream sequence {@code "n"}),
 * without parsing JSON: at 100,000 deliveries a second a full parse would cost the load
 * generator more CPU than the servers under test spend.
 */
public final class TimestampScanner {
  private static final String KEY = "\"t\":";

  private TimestampScanner() {}

  /** Calls {@code each} once per message in {@code text}, with its send time; returns the count. */
  public static int scan(CharSequence text, LongConsumer each) {
    return scanField(text, KEY, each);
  }

  /** Calls {@code each} with every non-negative integer value of {@code key} (e.g. "\"n\":"). */
  public static int scanField(CharSequence text, String key, LongConsumer each) {
    String s = text.toString();
    int count = 0;
    int i = s.indexOf(key);
    while (i >= 0) {
      int j = i + key.length();
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
      i = s.indexOf(key, j);
    }
    return count;
  }

  /** The same scan over raw UTF-8 bytes (catch-up bodies). */
  public static int scan(byte[] body, LongConsumer each) {
    return scan(new String(body, java.nio.charset.StandardCharsets.UTF_8), each);
  }
}
