package io.tether.benchmarks.load.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimestampScannerTest {
  @Test
  void findsEveryEmbeddedSendTimeInABatchedJsonArray() {
    String body = "[" + Payloads.tokenDelta(1, 0, 123) + "," + Payloads.tokenDelta(1, 1, 456)
        + ",\n" + Payloads.smallEvent(2, 789, 100) + "]";
    List<Long> seen = new ArrayList<>();

    int count = TimestampScanner.scan(body, seen::add);

    assertEquals(3, count);
    assertEquals(List.of(123L, 456L, 789L), seen);
  }

  @Test
  void ignoresAKeyWithoutDigits() {
    assertEquals(0, TimestampScanner.scan("{\"t\":\"x\"}", t -> { }));
  }
}
