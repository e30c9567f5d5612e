package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The idempotent producer against a real node: answers lost on the way back are retried and
 * never stored twice; a fenced run fails only its own events; a newer epoch fences an older
 * producer. What is stored is read back over Durable Streams HTTP, not through the client.
 */
@ExtendWith(TestNode.Shared.class)
class IdempotentProducerTest {
  private static TestNode node;
  private static String token;
  private static TetherClient direct;

  @BeforeAll
  static void start(TestNode shared) throws Exception {
    node = shared;
    token = node.fullToken();
    direct = TetherClient.builder(URI.create(node.baseUrl())).token(token).build();
  }

  @AfterAll
  static void stop() {
    direct.close();
  }

  @Test
  void retriesOfLostAnswersNeverDuplicate() throws Exception {
    String id = "producer-retry-" + UUID.randomUUID();
    direct.createSession(id).join();
    int total = 400;
    try (ChaosProxy proxy = new ChaosProxy(node.httpPort());
        TetherClient viaProxy = TetherClient.builder(URI.create(proxy.baseUrl())).token(token).build()) {
      // Every third answer is lost after the server stored the batch.
      proxy.cutEveryNthResponse(3);
      IdempotentProducer producer = viaProxy.producer(id).maxBatchEvents(20)
          .backoff(new Backoff(Duration.ofMillis(10), Duration.ofMillis(50))).open();
      List<CompletableFuture<IdempotentProducer.Appended>> acks = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        acks.add(producer.send(SessionResumeTest.tick(i)));
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      assertTrue(proxy.cut() > 0, "answers were lost: " + proxy.cut());
      assertTrue(producer.retries() >= proxy.cut(), "each lost answer was retried");
      assertTrue(producer.duplicates() > 0, "the server recognised retried batches it had stored");
    }
    List<JsonNode> stored = node.read(id, token);
    List<Integer> ticks = stored.stream().filter(j -> j.path("type").asText().equals("test.tick"))
        .map(j -> j.path("data").path("n").asInt()).toList();
    assertEquals(total, ticks.size(), "each event stored exactly once");
    for (int i = 0; i < total; i++) {
      assertEquals(i, ticks.get(i), "in order");
    }
    JsonNode first = stored.stream().filter(j -> j.path("type").asText().equals("test.tick"))
        .findFirst().orElseThrow();
    assertTrue(first.path("producer").isTextual() && first.path("time").isTextual(),
        "the producer stamps producer and time");
  }

  @Test
  void aFencedRunFailsOnlyItsOwnEvents() throws Exception {
    String id = "producer-fence-" + UUID.randomUUID();
    direct.createSession(id).join();
    IdempotentProducer producer = direct.producer(id).device("agent-x").open();
    producer.sendAll(List.of(Events.runStart("run-a", null), Events.runStart("run-b", null)))
        .get(30, TimeUnit.SECONDS);
    TetherSession controller = direct.session(id).device("phone").open();
    controller.upToDate().get(30, TimeUnit.SECONDS);
    String fence = controller.cancelRun("run-a").get(30, TimeUnit.SECONDS).fence();

    List<CompletableFuture<IdempotentProducer.Appended>> a = new ArrayList<>();
    List<CompletableFuture<IdempotentProducer.Appended>> b = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      a.add(producer.send(Events.messageDelta("run-a", "a1", "a" + i)));
      b.add(producer.send(Events.messageDelta("run-b", "b1", "b" + i)));
    }
    for (CompletableFuture<IdempotentProducer.Appended> f : a) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertEquals("fenced", ((TetherException) e.getCause()).code());
    }
    for (CompletableFuture<IdempotentProducer.Appended> f : b) {
      f.get(30, TimeUnit.SECONDS);
    }
    List<JsonNode> stored = node.read(id, token);
    assertEquals(20, stored.stream().filter(j -> "run-b".equals(j.path("run").asText())
        && j.path("type").asText().equals("message.delta")).count());
    assertEquals(0, stored.stream().filter(j -> "run-a".equals(j.path("run").asText())
        && j.path("type").asText().equals("message.delta")).count());
    assertTrue(fence != null && producer.failure().isEmpty(), "the producer goes on");
    controller.close();
  }

  @Test
  void aNewerEpochFencesTheOlderProducerUnlessItClaims() throws Exception {
    String id = "producer-epoch-" + UUID.randomUUID();
    direct.createSession(id).join();
    IdempotentProducer old = direct.producer(id).producerId("agent-7").epoch(0).open();
    old.send(SessionResumeTest.tick(0)).get(30, TimeUnit.SECONDS);
    // A restarted process with the same id takes a higher epoch: its seq 0 is new, not a duplicate.
    IdempotentProducer restarted = direct.producer(id).producerId("agent-7").epoch(1).open();
    IdempotentProducer.Appended fresh = restarted.send(SessionResumeTest.tick(1)).get(30, TimeUnit.SECONDS);
    assertTrue(!fresh.duplicate());

    ExecutionException stale = assertThrows(ExecutionException.class,
        () -> old.send(SessionResumeTest.tick(99)).get(30, TimeUnit.SECONDS));
    assertEquals("stale-epoch", ((TetherException) stale.getCause()).code());
    assertTrue(old.failure().isPresent(), "a fenced producer stops");

    IdempotentProducer claimer = direct.producer(id).producerId("agent-7").epoch(0)
        .autoClaim(true).open();
    claimer.send(SessionResumeTest.tick(2)).get(30, TimeUnit.SECONDS);
    assertEquals(2, claimer.epoch(), "it took the epoch after the newest");

    List<Integer> ticks = node.read(id, token).stream()
        .filter(j -> j.path("type").asText().equals("test.tick"))
        .map(j -> j.path("data").path("n").asInt()).toList();
    assertEquals(List.of(0, 1, 2), ticks);
  }
}
