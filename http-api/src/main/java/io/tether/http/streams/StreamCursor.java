package io.tether.http.streams;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Generates {@code Stream-Cursor} values: the number of 20-second intervals since
 * 2024-10-09T00:00:00Z. When a client echoes a cursor that is not older than the current
 * interval, the answer jumps ahead by a random 1 to 180 intervals (20 s to 1 h), so cursors
 * always progress and CDN cache keys never cycle.
 */
final class StreamCursor {
  private static final long EPOCH_MILLIS = Instant.parse("2024-10-09T00:00:00Z").toEpochMilli();
  private static final long INTERVAL_MILLIS = 20_000;

  private StreamCursor() {}

  /** The cursor to answer, given the client's {@code cursor} query parameter (may be null). */
  static String next(String clientCursor) {
    long current = (System.currentTimeMillis() - EPOCH_MILLIS) / INTERVAL_MILLIS;
    if (clientCursor != null) {
      try {
        // Bounded so that a huge echoed cursor cannot overflow into a negative one.
        long echoed = Math.min(Long.parseLong(clientCursor.trim()), Long.MAX_VALUE / 2);
        if (echoed >= current) {
          return Long.toString(echoed + 1 + ThreadLocalRandom.current().nextLong(180));
        }
      } catch (NumberFormatException ignored) {
        // an unparsable cursor is treated as absent
      }
    }
    return Long.toString(current);
  }
}
