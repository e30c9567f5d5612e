package io.tether.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter between reconnection attempts: attempt {@code n} (0 for the
 * first retry after a drop) waits a random time in {@code [d/2, d]} with
 * {@code d = min(max, initial * 2^n)}, so clients dropped together do not come back together.
 *
 * @param initial the ceiling of the first wait
 * @param max the ceiling of every wait
 */
public record Backoff(Duration initial, Duration max) {

  /** 100 ms doubling to 2 s: a dropped socket comes back within about 0.1 s. */
  public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));

  /** Checks the bounds. */
  public Backoff {
    if (initial.isNegative() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 <= initial <= max");
    }
  }

  /** The wait before attempt {@code attempt} (0-based). */
  public Duration delay(int attempt) {
    long ceiling = initial.toMillis();
    for (int i = 0; i < attempt && ceiling < max.toMillis(); i++) {
      ceiling *= 2;
    }
    ceiling = Math.min(ceiling, max.toMillis());
    if (ceiling <= 0) {
      return Duration.ZERO;
    }
    return Duration.ofMillis(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
  }
}
