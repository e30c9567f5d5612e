package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.http.ops.StalledSseReaderTest.SseConnection;
import io.tether.http.ops.StalledSseReaderTest.SseEvent;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.junit.jupiter.api.Test;

/**
 * A node that starts to shut down ends its Server-Sent Events responses first, so that their
 * readers reconnect to another node from the last offset they saw. Before, a response stayed open
 * through the shutdown's HTTP phases (until the unbind deadline or the phase's timeout, 5 s at
 * least) and meanwhile kept asking for its session while sharding handed the session over, which
 * held the shard region's hand-off until that phase timed out (10 s more).
 */
class SseShutdownTest {
  /** Far below the 5 s the HTTP phases of a shutdown take when a response holds them. */
  private static final long ENDS_WITHIN_MILLIS = 3_000;

  @Test
  void aShuttingDownNodeEndsItsSseResponsesFirst() throws Exception {
    OpsTestServer server = OpsTestServer.start("sse-shutdown", "tether.http.unbind-deadline = 30s",
        OpsTestServer.sharedCassandra("sse_shutdown"));
    String id = "sse-shutdown";
    LoadFaultsTest.createJson(server, id);
    LoadFaultsTest.appendBatches(server, id, 1, "x");
    try (SseConnection reader = SseConnection.open(server.binding.localAddress().getPort(), id, "-1")) {
      SseEvent first = reader.next();
      assertTrue(first != null && first.type().equals("data"), "the catch-up's data: " + first);
      SseEvent control = reader.next();
      assertTrue(control != null && control.type().equals("control"), "its control event: " + control);

      long began = System.nanoTime();
      CoordinatedShutdown.get(server.system).run(CoordinatedShutdown.unknownReason());
      assertNull(reader.next(), "nothing after the shutdown began but the end of the response");
      long ended = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
      assertTrue(ended < ENDS_WITHIN_MILLIS, "the response ended " + ended + " ms into the shutdown");
    }
    server.system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
