package io.tether.benchmarks.load.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class PayloadsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The token scenarios' deltas are what an agent writes into a session: Tether refuses (400) a
   * {@code message.delta} without {@code data.id} and {@code data.text} (docs/protocol.md,
   * "Validation is the same on both transports"), so a delta without them measured nothing.
   */
  @Test
  void aTokenDeltaIsAValidSessionEventAndCarriesTheGeneratorsFields() throws Exception {
    JsonNode delta = JSON.readTree(Payloads.tokenDelta(3, 17, 12345));
    assertEquals("message.delta", delta.path("type").asText());
    assertEquals("m3", delta.path("data").path("id").asText());
    assertTrue(delta.path("data").path("text").isTextual());
    assertEquals(3, delta.path("s").asInt());
    assertEquals(17, delta.path("n").asLong());
    assertEquals(12345, delta.path("t").asLong());
    java.util.List<Long> stamps = new java.util.ArrayList<>();
    assertEquals(1, TimestampScanner.scan(Payloads.tokenDelta(3, 17, 12345), stamps::add));
    assertEquals(java.util.List.of(12345L), stamps);
  }
}
