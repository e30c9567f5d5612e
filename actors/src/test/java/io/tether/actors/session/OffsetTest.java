package io.tether.actors.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The wire form of offsets: exact, fixed-width, ordered like the numbers, strictly parsed. */
class OffsetTest {

  @Test
  void theWireFormIsTwoZeroPaddedSixteenDigitNumbers() {
    assertEquals("0000000000000000_0000000000000000", Offset.ZERO.encode());
    assertEquals("0000000000000042_0000000000000003", new Offset(42, 3).encode());
    assertEquals("9999999999999999_9999999999999999",
        new Offset(9_999_999_999_999_999L, 9_999_999_999_999_999L).encode());
  }

  @Test
  void encodingRoundTripsAndSortsLikeTheNumbers() {
    Random random = new Random(7);
    Offset previous = null;
    for (int i = 0; i < 10_000; i++) {
      long position = i % 3 == 0 ? random.nextInt(1000) : Math.floorMod(random.nextLong(),
          10_000_000_000_000_000L);
      Offset offset = new Offset(position, random.nextInt(100_000));
      String wire = offset.encode();
      assertEquals(String.format("%016d_%016d", offset.position(), offset.index()), wire);
      assertEquals(Optional.of(offset), Offset.parse(wire));
      if (previous != null) {
        assertEquals(Integer.signum(previous.compareTo(offset)),
            Integer.signum(previous.encode().compareTo(wire)), previous + " vs " + offset);
      }
      previous = offset;
    }
  }

  @Test
  void anythingButTheExactWireFormIsRefused() {
    for (String bad : List.of("", "-1", "now", "42", "0000000000000042-0000000000000003",
        "000000000000042_0000000000000003", "0000000000000042_00000000000000031",
        "00000000000000+2_0000000000000003", "0000000000000042_000000000000000x",
        "０000000000000042_0000000000000003", " 000000000000042_0000000000000003")) {
      assertTrue(Offset.parse(bad).isEmpty(), bad);
    }
    assertTrue(Offset.parse(null).isEmpty());
  }
}
