package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Publishing and the answers to it, refusals that leave the socket usable, tokens, and what is
 * left after close.
 */
@ExtendWith(TestNode.Shared.class)
class SessionRequestsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestNode node;
  private static String token;

  @BeforeAll
  static void start(TestNode shared) throws Exception {
    node = shared;
    token = node.fullToken();
  }

  @Test
  void publishIsAcknowledgedWithTheOffsetOfItsLastEvent() throws Exception {
    try (TetherClient tether = client(token)) {
      String id = "publish-" + UUID.randomUUID();
      tether.createSession(id).join();
      Recorder screen = new Recorder();
      TetherSession laptop = tether.session(id).device("laptop").listener(screen).open();
      laptop.upToDate().get(30, TimeUnit.SECONDS);

      Frames.Published published = laptop.publish(Events.userMessage("m-1", "hello"))
          .get(30, TimeUnit.SECONDS);
      SessionEvent end = screen.await(e -> e.event() instanceof Event.MessageEnd, WAIT);
      assertEquals(end.offset(), published.offset());
      assertEquals("laptop", end.event().producer(), "the server stamps the device");

      // Another device reads it back as one user message.
      Recorder later = new Recorder();
      TetherSession phone = tether.session(id).device("phone").listener(later).open();
      phone.upToDate().get(30, TimeUnit.SECONDS);
      MessageAssembler messages = new MessageAssembler();
      List<MessageAssembler.Assembled> whole = later.events().stream()
          .map(messages::accept).flatMap(java.util.Optional::stream).toList();
      assertEquals(1, whole.size());
      assertEquals("hello", whole.get(0).text());
      assertEquals("user", whole.get(0).role());
      assertEquals("m-1", whole.get(0).id());
    }
  }

  @Test
  void refusalsFailTheRequestAndLeaveTheSocketUsable() throws Exception {
    try (TetherClient tether = client(token)) {
      String id = "refusal-" + UUID.randomUUID();
      tether.createSession(id).join();
      TetherSession s = tether.session(id).device("laptop").maxFrameBytes(64 * 1024).open();
      s.upToDate().get(30, TimeUnit.SECONDS);

      ExecutionException invalid = assertThrows(ExecutionException.class,
          () -> s.publish(Events.of("nodot", null, null)).get(30, TimeUnit.SECONDS));
      assertEquals("invalid-event", ((TetherException) invalid.getCause()).code());
      ExecutionException reserved = assertThrows(ExecutionException.class, () -> s.publish(
          Events.of("presence.joined", null, Json.object().put("device", "x"))).get(30, TimeUnit.SECONDS));
      assertTrue(Set.of("invalid-event", "reserved-type")
          .contains(((TetherException) reserved.getCause()).code()));
      ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> s.publish(
          Events.messageDelta(null, "m", "x".repeat(70 * 1024))).get(30, TimeUnit.SECONDS));
      assertEquals("too-large", ((TetherException) tooLarge.getCause()).code());

      assertEquals(ConnectionState.LIVE, s.state());
      s.publish(Events.userMessage("m-2", "still here")).get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void tokensAreSentAndRefusalsAreFinal() throws Exception {
    String id = "tokens-" + UUID.randomUUID();
    try (TetherClient owner = client(token)) {
      owner.createSession(id).join();
    }
    try (TetherClient anonymous = client(null)) {
      Recorder r = new Recorder();
      TetherSession s = anonymous.session(id).listener(r).open();
      ExecutionException refused = assertThrows(ExecutionException.class,
          () -> s.upToDate().get(30, TimeUnit.SECONDS));
      assertEquals("unauthorized", ((TetherException) refused.getCause()).code());
      assertEquals(ConnectionState.CLOSED, s.state(), "no retry loop on a refused token");
    }
    try (TetherClient reader = client(node.token("reader", id, "subscribe"))) {
      TetherSession s = reader.session(id).open();
      s.upToDate().get(30, TimeUnit.SECONDS);
      ExecutionException forbidden = assertThrows(ExecutionException.class,
          () -> s.publish(Events.userMessage("m", "no")).get(30, TimeUnit.SECONDS));
      assertEquals("forbidden", ((TetherException) forbidden.getCause()).code());
      assertEquals(ConnectionState.LIVE, s.state());
    }
    try (TetherClient other = client(node.token("other", "elsewhere-*", "subscribe"))) {
      TetherSession s = other.session(id).open();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> s.upToDate().get(30, TimeUnit.SECONDS));
      assertEquals("forbidden", ((TetherException) e.getCause()).code());
    }
  }

  @Test
  void aMissingSessionClosesTheSessionWithNotFound() throws Exception {
    try (TetherClient tether = client(token)) {
      TetherSession s = tether.session("missing-" + UUID.randomUUID()).open();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> s.upToDate().get(30, TimeUnit.SECONDS));
      assertEquals("not-found", ((TetherException) e.getCause()).code());
      assertEquals(ConnectionState.CLOSED, s.state());
    }
  }

  @Test
  void closingLeavesNoThreadNoSocketAndNoPresence() throws Exception {
    String id = "close-" + UUID.randomUUID();
    TetherClient watcher = client(token);
    watcher.createSession(id).join();
    Recorder view = new Recorder();
    TetherSession watching = watcher.session(id).device("watcher").listener(view).open();
    watching.upToDate().get(30, TimeUnit.SECONDS);

    TetherClient tether = client(token);
    TetherSession a = tether.session(id).device("tab-a").open();
    TetherAgent agent = tether.agent(id).device("agent-z").open();
    IdempotentProducer producer = tether.producer(id).open();
    a.upToDate().get(30, TimeUnit.SECONDS);
    agent.session().upToDate().get(30, TimeUnit.SECONDS);
    producer.send(SessionResumeTest.tick(1)).get(30, TimeUnit.SECONDS);
    view.awaitPresence(p -> p.containsKey("tab-a") && p.containsKey("agent-z"), WAIT);
    String prefix = threadPrefix();
    assertFalse(threads(prefix).isEmpty(), "the client runs threads named " + prefix + "*");

    tether.close();
    assertEquals(ConnectionState.CLOSED, a.state());
    assertEquals(ConnectionState.CLOSED, agent.session().state());
    view.awaitPresence(p -> !p.containsKey("tab-a") && !p.containsKey("agent-z"), WAIT);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!threads(prefix).isEmpty() && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertEquals(List.of(), threads(prefix), "no thread of the closed client is left");
    ExecutionException closed = assertThrows(ExecutionException.class,
        () -> a.publish(Events.userMessage("m", "x")).get(5, TimeUnit.SECONDS));
    assertEquals("closed", ((TetherException) closed.getCause()).code());
    assertThrows(IllegalStateException.class, () -> tether.session(id).open());
    watcher.close();
  }

  private static TetherClient client(String token) {
    return TetherClient.builder(URI.create(node.baseUrl())).token(token).build();
  }

  /** The thread-name prefix of the client made last ({@code tether-client-N-}). */
  private static String threadPrefix() {
    int newest = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(n -> n.matches("tether-client-\\d+-.*"))
        .mapToInt(n -> Integer.parseInt(n.split("-")[2])).max().orElseThrow();
    return "tether-client-" + newest + "-";
  }

  private static List<String> threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .map(Thread::getName).filter(n -> n.startsWith(prefix)).toList();
  }
}
