package io.tether.benchmarks.load.measure;

import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Counts failed requests by what failed them: {@code HTTP <status>} for an answer that was not
 * 2xx, or the exception's class and message for a request that got no answer. A scenario
 * reports the total as its error metric and {@link #describe()} as a note, so an error count in
 * the results always says what the errors were.
 */
public final class ErrorTally {
  private static final int MAX_KINDS = 20;
  private final Map<String, LongAdder> byKind = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();

  /** One request answered with a non-2xx status, described as {@code "HTTP 404 <body>"}. */
  public void answered(String failure) {
    add(failure);
  }

  /** One request that failed without an answer. */
  public void failure(Throwable error) {
    Throwable e = error;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    String message = e.getMessage() == null ? "" : ": " + e.getMessage();
    add(e.getClass().getName() + message);
  }

  private void add(String kind) {
    total.increment();
    if (byKind.size() < MAX_KINDS || byKind.containsKey(kind)) {
      byKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
    } else {
      byKind.computeIfAbsent("other", k -> new LongAdder()).increment();
    }
  }

  public long total() {
    return total.sum();
  }

  /** How many failed with exactly this kind ({@code "HTTP 404 ..."}, an exception's text). */
  public long count(String kind) {
    LongAdder n = byKind.get(kind);
    return n == null ? 0 : n.sum();
  }

  /** {@code "12 x HTTP 503; 3 x java.io.IOException: ..."}, most frequent first; "" if none. */
  public String describe() {
    return byKind.entrySet().stream()
        .sorted(Comparator.comparingLong((Map.Entry<String, LongAdder> en) -> en.getValue().sum())
            .reversed())
        .map(en -> String.format("%,d x %s", en.getValue().sum(), en.getKey()))
        .collect(Collectors.joining("; "));
  }
}
