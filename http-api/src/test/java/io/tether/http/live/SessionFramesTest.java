package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.tether.actors.session.Offset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Event frames: exact JSON, and built once per pushed item for all connections of a node. */
class SessionFramesTest {

  @Test
  void anEventFrameWrapsTheItemWithItsOffset() {
    byte[] item = "{\"type\":\"message.delta\",\"data\":{\"text\":\"é\"}}"
        .getBytes(StandardCharsets.UTF_8);
    assertEquals("{\"type\":\"event\",\"offset\":\"0000000000000007_0000000000000002\","
        + "\"event\":{\"type\":\"message.delta\",\"data\":{\"text\":\"é\"}}}",
        SessionFrames.event(new Offset(7, 2), item));
  }

  @Test
  void theSamePushedItemIsFramedOnceForEveryConnection() {
    byte[] item = "{\"type\":\"message.delta\"}".getBytes(StandardCharsets.UTF_8);
    String first = SessionFrames.event(new Offset(3, 1), item);
    assertSame(first, SessionFrames.event(new Offset(3, 1), item));
    // the same bytes at another offset (a replay of another position) are another frame
    assertEquals("{\"type\":\"event\",\"offset\":\"0000000000000004_0000000000000001\","
        + "\"event\":{\"type\":\"message.delta\"}}", SessionFrames.event(new Offset(4, 1), item));
    // an equal item in another array (from a journal read) gives an equal frame
    assertEquals(first, SessionFrames.event(new Offset(3, 1), item.clone()));
  }
}
