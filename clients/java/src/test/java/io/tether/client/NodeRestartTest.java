package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The node is killed with SIGKILL while a session is live and a producer writes, then started
 * again on the same home and port: the session comes back by itself and delivers every event
 * exactly once, and the producer's retries across the outage store each event once.
 */
@ExtendWith(TestNode.Shared.class)
class NodeRestartTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static TestNode node;

  @BeforeAll
  static void start(TestNode shared) {
    node = shared;
  }

  @Test
  void reconnectsAfterTheNodeIsKilledAndRestarted() throws Exception {
    String token = node.fullToken();
    String id = "restart-" + UUID.randomUUID();
    try (TetherClient tether = TetherClient.builder(URI.create(node.baseUrl())).token(token).build()) {
      tether.createSession(id).join();
      Recorder reader = new Recorder();
      TetherSession session = tether.session(id).device("survivor").listener(reader).open();
      session.upToDate().get(30, TimeUnit.SECONDS);
      // The outage lasts as long as the node (and its Cassandra, when it has its own) takes to
      // start on this machine.
      IdempotentProducer producer = tether.producer(id).deliveryTimeout(Duration.ofMinutes(5)).open();
      int before = 100;
      int during = 100;
      for (int i = 0; i < before; i++) {
        producer.send(SessionResumeTest.tick(i));
      }
      producer.flush().get(30, TimeUnit.SECONDS);
      reader.await(e -> e.event().type().equals("test.tick")
          && e.event().data().get("n").asInt() == before - 1, WAIT);

      long killed = System.nanoTime();
      node.kill();
      reader.awaitStates(s -> s.contains(ConnectionState.RECONNECTING), WAIT);
      long noticed = System.nanoTime();
      // Written while the node is down: retried until it is back.
      List<CompletableFuture<IdempotentProducer.Appended>> pending = new ArrayList<>();
      for (int i = before; i < before + during; i++) {
        pending.add(producer.send(SessionResumeTest.tick(i)));
      }
      node.start();
      long ready = System.nanoTime();
      reader.awaitStates(s -> s.lastIndexOf(ConnectionState.LIVE)
          > s.indexOf(ConnectionState.RECONNECTING), Duration.ofSeconds(60));
      long live = reader.states().stream()
          .filter(s -> s.value() == ConnectionState.LIVE && s.nanos() > killed)
          .mapToLong(Recorder.Timed::nanos).min().orElseThrow();
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
      reader.await(e -> e.event().type().equals("test.tick")
          && e.event().data().get("n").asInt() == before + during - 1, WAIT);

      List<Integer> delivered = reader.events().stream()
          .filter(e -> e.event().type().equals("test.tick"))
          .map(e -> e.event().data().get("n").asInt()).toList();
      assertEquals(before + during, delivered.size(), "every event delivered once");
      for (int i = 0; i < delivered.size(); i++) {
        assertEquals(i, delivered.get(i));
      }
      SessionResumeTest.assertStrictlyIncreasing(reader.events());
      List<Integer> stored = node.read(id, token).stream()
          .filter(j -> j.path("type").asText().equals("test.tick"))
          .map((JsonNode j) -> j.path("data").path("n").asInt()).toList();
      assertEquals(delivered, stored, "the session holds each event once");
      assertTrue(producer.retries() > 0, "the producer retried across the outage");

      Measurements.record("node SIGKILL noticed by the session (ms)",
          List.of((noticed - killed) / 1_000_000));
      Measurements.record("node SIGKILL to live again, restart included (ms)",
          List.of((live - killed) / 1_000_000));
      Measurements.record("restarted node ready to session live (ms)",
          List.of(Math.max(0, live - ready) / 1_000_000));
    }
  }
}
