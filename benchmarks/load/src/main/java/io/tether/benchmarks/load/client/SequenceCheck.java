package io.tether.benchmarks.load.client;

/**
 * Checks, for one reader of one stream with one producer, that the producer's sequence numbers
 * ({@code "n"} in every token delta) arrive in order without duplicates or gaps: the benchmark
 * also watches that the server delivers what it acknowledged, exactly once and in order. Gaps
 * before the first delivery are not counted (a live reader starts at the tail).
 */
final class SequenceCheck {
  private static final String KEY = "\"n\":";
  private long last = -1;
  private long duplicatesOrReordered;
  private long gaps;

  /** Checks every message in one delivered payload. Called by one reader, in delivery order. */
  synchronized void check(CharSequence payload) {
    TimestampScanner.scanField(payload, KEY, n -> {
      if (last >= 0) {
        if (n <= last) {
          duplicatesOrReordered++;
          return;
        }
        if (n > last + 1) {
          gaps++;
        }
      }
      last = n;
    });
  }

  synchronized long anomalies() {
    return duplicatesOrReordered + gaps;
  }
}
