package io.tether.actors.harness.output;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One producer's events reach the session in order, one append at a time, and the token deltas
 * offered while an append is in flight travel as one merged delta.
 */
class ProducerStreamTest {

  /** A session that holds each append until the test completes it. */
  static final class HeldSession implements SessionWriter {
    final List<List<ObjectNode>> appends = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<String>> pending = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<String> append(String sessionId, String producer,
        List<ObjectNode> events) {
      appends.add(List.copyOf(events));
      CompletableFuture<String> done = new CompletableFuture<>();
      pending.add(done);
      return done;
    }
  }

  private static ObjectNode delta(String text) {
    ObjectNode data = SessionEvents.data();
    data.put("text", text);
    return SessionEvents.event("message.delta", "r", "s1", "generator", data);
  }

  @Test
  void mergesDeltasOfferedWhileAnAppendIsInFlightAndKeepsOrder() throws Exception {
    HeldSession session = new HeldSession();
    ProducerStream stream = new ProducerStream(session, "s", "generator");
    stream.offer(SessionEvents.event("message.start", "r", "s1", "generator", null));
    for (String token : List.of("Hel", "lo", ", ", "world")) {
      stream.offer(delta(token));
    }
    stream.offer(SessionEvents.event("message.end", "r", "s1", "generator", null));
    assertEquals(1, session.appends.size());

    session.pending.get(0).complete("o1");
    assertEquals(2, session.appends.size());
    List<ObjectNode> second = session.appends.get(1);
    assertEquals(List.of("message.delta", "message.end"),
        second.stream().map(e -> e.path("type").asText()).toList());
    assertEquals("Hello, world", second.get(0).path("data").path("text").asText());

    session.pending.get(1).complete("o2");
    stream.drained().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(2, session.appends.size());
  }

  @Test
  void aFailedAppendDoesNotStopTheStream() throws Exception {
    HeldSession session = new HeldSession();
    ProducerStream stream = new ProducerStream(session, "s", "generator");
    stream.offer(delta("a"));
    stream.offer(SessionEvents.event("message.end", "r", "s1", "generator", null));
    session.pending.get(0).completeExceptionally(new IllegalStateException("CLOSED"));
    session.pending.get(1).complete("o2");
    stream.drained().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals("message.end", session.appends.get(1).get(0).path("type").asText());
  }
}
