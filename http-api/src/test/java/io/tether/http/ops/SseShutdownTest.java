package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.http.ops.StalledSseReaderTest.SseConnection;
import io.tether.http.ops.StalledSseReaderTest.SseEvent;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.junit.jupiter.api.Test;

/**
 * A node that starts to shut down ends its Server-Sent Events responses first, with HTTP's last
 * chunk after the last complete event, so that their readers reconnect to another node from the
 * last offset they saw. Before, a response stayed open until the unbind deadline aborted its
 * connection, and meanwhile kept asking for its session while sharding handed the session over,
 * which held the shard region's hand-off until that phase timed out.
 */
class SseShutdownTest {

  @Test
  void aShuttingDownNodeEndsItsSseResponsesCleanly() throws Exception {
    OpsTestServer server = OpsTestServer.start("sse-shutdown", "",
        OpsTestServer.sharedCassandra("sse_shutdown"));
    String id = "sse-shutdown";
    LoadFaultsTest.createJson(server, id);
    LoadFaultsTest.appendBatches(server, id, 1, "x");
    try (SseConnection reader = SseConnection.open(server.binding.localAddress().getPort(), id, "-1")) {
      SseEvent first = reader.next();
      assertTrue(first != null && first.type().equals("data"), "the catch-up's data: " + first);
      SseEvent control = reader.next();
      assertTrue(control != null && control.type().equals("control"), "its control event: " + control);

      CoordinatedShutdown.get(server.system).run(CoordinatedShutdown.unknownReason());
      assertNull(reader.next(), "nothing after the shutdown began but the end of the response");
      assertTrue(reader.endedCleanly(), "the response ended with its last chunk, not an abort");
    }
    server.system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
