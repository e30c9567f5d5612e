package io.tether.benchmarks.load.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SequenceCheckTest {
  private static String deltas(long... seqs) {
    StringBuilder b = new StringBuilder("[");
    for (long n : seqs) {
      b.append(b.length() > 1 ? "," : "").append(Payloads.tokenDelta(0, n, 1));
    }
    return b.append(']').toString();
  }

  @Test
  void acceptsAnInOrderRunStartingAnywhere() {
    SequenceCheck check = new SequenceCheck();
    check.check(deltas(7, 8));
    check.check(deltas(9));
    assertEquals(0, check.anomalies());
  }

  @Test
  void countsDuplicatesAndGaps() {
    SequenceCheck check = new SequenceCheck();
    check.check(deltas(1, 2, 2, 5));
    assertEquals(2, check.anomalies());
  }
}
