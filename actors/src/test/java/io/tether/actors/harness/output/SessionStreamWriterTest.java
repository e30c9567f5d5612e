package io.tether.actors.harness.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.HarnessTestSupport;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The harness's writer against the real Session entity, with a fault between them: the answer
 * to a write that landed is replaced by the refusal a journal write that timed out produces
 * ({@code JOURNAL_UNAVAILABLE}), as when Cassandra stored a write it reported timed out. The
 * writer sends the batch again, as it must, and the session still holds it once. Before the
 * writer sent producer sequences, the same test stored the batch twice.
 */
class SessionStreamWriterTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long WAIT_SECONDS = 20;
  private static final SessionStreamWriter.Retries QUICK =
      new SessionStreamWriter.Retries(3, 10, 20);
  private static ActorTestKit kit;
  private static SessionStreams streams;

  @BeforeAll
  static void start() {
    kit = HarnessTestSupport.sessionNode("SessionStreamWriterTest");
    streams = new SessionStreams(kit.system(), Duration.ofSeconds(10));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** Appends through to the session, but reports the first {@code lies} writes as failed. */
  private static BiFunction<String, Session.AppendSpec, CompletionStage<Session.AppendReply>>
      landedButReportedFailed(AtomicInteger lies) {
    return (id, spec) -> streams.append(id, spec).thenApply(reply ->
        reply instanceof Session.Appended && lies.getAndDecrement() > 0
            ? Session.AppendRejected.of(Session.AppendFailure.JOURNAL_UNAVAILABLE)
            : reply);
  }

  private static SessionStreamWriter writer(
      BiFunction<String, Session.AppendSpec, CompletionStage<Session.AppendReply>> append) {
    return new SessionStreamWriter(streams::create, append, QUICK);
  }

  private static List<ObjectNode> events(String... texts) {
    List<ObjectNode> events = new ArrayList<>();
    for (String text : texts) {
      ObjectNode e = JSON.createObjectNode().put("type", "message.delta");
      e.putObject("data").put("text", text);
      events.add(e);
    }
    return events;
  }

  private static List<String> texts(String sessionId) throws Exception {
    List<String> out = new ArrayList<>();
    Offset from = Offset.ZERO;
    while (true) {
      Session.ReadResult result = (Session.ReadResult) streams.read(sessionId,
          new Session.ReadSpec(from, false, null, 1 << 20, 0, false)).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
      for (byte[] item : result.items()) {
        JsonNode event = JSON.readTree(item);
        out.add(event.path("data").path("text").asText());
      }
      from = result.next();
      if (result.upToDate()) {
        return out;
      }
    }
  }

  @Test
  void aBatchSentAgainAfterAWriteThatLandedButWasReportedFailedIsStoredOnce() throws Exception {
    String session = "writer-landed";
    SessionStreamWriter writer = writer(landedButReportedFailed(new AtomicInteger(1)));
    writer.append(session, "generator", events("a", "b")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    writer.append(session, "generator", events("c")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", "c"), texts(session));
  }

  @Test
  void afterAnAppendThatFailedForGoodTheNextBatchIsStoredNotTakenForIt() throws Exception {
    String session = "writer-gave-up";
    // Every attempt of the first batch is reported failed: the first landed, the rest were
    // duplicates; the writer gives up on it without knowing that.
    AtomicInteger lies = new AtomicInteger(QUICK.times() + 1);
    SessionStreamWriter writer = writer(landedButReportedFailed(lies));
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> writer.append(session, "generator", events("a")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals("session writer-gave-up refused generator's append: JOURNAL_UNAVAILABLE",
        failed.getCause().getMessage());
    writer.append(session, "generator", events("b")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b"), texts(session));
  }

  @Test
  void aProducerWritingFromTwoNodesNeverHasABatchTakenForADuplicate() throws Exception {
    String session = "writer-moved";
    SessionStreamWriter first = writer(streams::append);
    first.append(session, "evaluator", events("a")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    // The role moves to another node (a writer of its own, at once) and back.
    SessionStreamWriter second = writer(streams::append);
    second.append(session, "evaluator", events("b")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    first.append(session, "evaluator", events("c")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    second.append(session, "evaluator", events("d")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    // Other producers of the same session have sequences of their own.
    first.append(session, "planner", events("e")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", "c", "d", "e"), texts(session));
  }

  @Test
  void twoStreamsOfOneProducerOnOneNodeBothGetTheirBatchesStored() throws Exception {
    // A role restarting on the same node while its old stream still flushes: both claim
    // sequences of one producer, and the later claim may reach the session first.
    String session = "writer-interleaved";
    List<Runnable> release = new ArrayList<>();
    SessionStreamWriter writer = writer((id, spec) -> {
      if (spec.producer().epoch() == 0 && spec.producer().seq() == 0) {
        // The first claim (sequence 0) is held back until the second has been written.
        java.util.concurrent.CompletableFuture<Session.AppendReply> later =
            new java.util.concurrent.CompletableFuture<>();
        release.add(() -> streams.append(id, spec).whenComplete((r, e) -> later.complete(r)));
        return later;
      }
      return streams.append(id, spec);
    });
    CompletionStage<String> early = writer.append(session, "generator", events("a"));
    writer.append(session, "generator", events("b")).toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    release.forEach(Runnable::run);
    early.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertEquals(List.of("b", "a"), texts(session));
  }
}
