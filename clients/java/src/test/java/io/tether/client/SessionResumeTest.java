package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A session's connection is cut by a real TCP fault (the proxy ends the connection) while events
 * stream, or in the middle of a replay; the session reconnects by itself and resumes after the
 * last event it delivered: every event arrives, in order, exactly once.
 */
@ExtendWith(TestNode.Shared.class)
class SessionResumeTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
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
  void resumesAfterForcedDropsWithNoGapAndNoDuplicate() throws Exception {
    String id = "resume-" + UUID.randomUUID();
    direct.createSession(id).join();
    int chunks = 6;
    int perChunk = 100;
    List<Long> reconnectMillis = new ArrayList<>();
    try (ChaosProxy proxy = new ChaosProxy(node.httpPort());
        TetherClient viaProxy = TetherClient.builder(URI.create(proxy.baseUrl())).token(token).build()) {
      Recorder reader = new Recorder();
      TetherSession session = viaProxy.session(id).device("reader").listener(reader).open();
      session.upToDate().get(30, TimeUnit.SECONDS);
      IdempotentProducer producer = direct.producer(id).open();
      int n = 0;
      for (int chunk = 0; chunk < chunks; chunk++) {
        for (int i = 0; i < perChunk; i++) {
          producer.send(tick(n++));
        }
        // Cut the connection while this chunk is being delivered.
        int expectedSoFar = chunk * perChunk + perChunk / 3;
        reader.await(e -> e.event().type().equals("test.tick")
            && e.event().data().get("n").asInt() >= expectedSoFar, WAIT);
        int livesBefore = lives(reader);
        long dropped = System.nanoTime();
        assertTrue(proxy.dropAll() > 0, "the proxy held the session's connection");
        reader.awaitStates(s -> s.stream().filter(x -> x == ConnectionState.LIVE).count()
            > livesBefore, WAIT);
        reconnectMillis.add(firstLiveAfter(reader, dropped));
      }
      producer.flush().get(30, TimeUnit.SECONDS);
      reader.await(e -> e.event().type().equals("test.tick")
          && e.event().data().get("n").asInt() == chunks * perChunk - 1, WAIT);

      List<SessionEvent> ticks = reader.events().stream()
          .filter(e -> e.event().type().equals("test.tick")).toList();
      assertEquals(chunks * perChunk, ticks.size(), "every tick once");
      for (int i = 0; i < ticks.size(); i++) {
        assertEquals(i, ticks.get(i).event().data().get("n").asInt(), "tick " + i + " in order");
      }
      assertStrictlyIncreasing(reader.events());
      assertTrue(proxy.connections() > chunks, "the session opened a new connection per drop: "
          + proxy.connections());
      long reconnects = reader.states().stream().filter(s -> s.value() == ConnectionState.RECONNECTING).count();
      assertTrue(reconnects >= chunks, "reconnected after each drop: " + reconnects);
      Measurements.record("reconnect after a dropped socket (ms, drop to live)", reconnectMillis);
    }
  }

  @Test
  void aDropInTheMiddleOfTheReplayResumesWithoutGapOrDuplicate() throws Exception {
    String id = "replay-drop-" + UUID.randomUUID();
    direct.createSession(id).join();
    IdempotentProducer producer = direct.producer(id).open();
    int total = 300;
    for (int i = 0; i < total; i++) {
      producer.send(tick(i));
    }
    producer.flush().get(30, TimeUnit.SECONDS);

    try (ChaosProxy proxy = new ChaosProxy(node.httpPort());
        TetherClient viaProxy = TetherClient.builder(URI.create(proxy.baseUrl())).token(token).build()) {
      // The first connection ends after 60 events and a few bytes of the 61st.
      proxy.cutNextAfterFrames(60, 7);
      Recorder reader = new Recorder();
      viaProxy.session(id).device("replayer").listener(reader).open();
      reader.awaitStates(s -> s.contains(ConnectionState.LIVE), WAIT);
      reader.awaitCount(total, WAIT);

      assertEquals(List.of(ConnectionState.CATCHING_UP, ConnectionState.RECONNECTING),
          reader.states().stream().map(Recorder.Timed::value).toList().subList(0, 2),
          "the drop came before the first catch-up");
      List<SessionEvent> ticks = reader.events().stream()
          .filter(e -> e.event().type().equals("test.tick")).toList();
      assertEquals(total, ticks.size(), "every event once");
      for (int i = 0; i < total; i++) {
        assertEquals(i, ticks.get(i).event().data().get("n").asInt());
      }
      assertStrictlyIncreasing(ticks);
    }
  }

  @Test
  void messageGranularityReplayedAgainAfterADropDeliversEachMessageOnce() throws Exception {
    String id = "rollup-drop-" + UUID.randomUUID();
    direct.createSession(id).join();
    IdempotentProducer producer = direct.producer(id).open();
    producer.sendAll(List.of(
        Events.of("test.note", null, Json.object().put("n", 1)),
        Events.messageStart("r1", "m1", "assistant"),
        Events.messageStart("r1", "m2", "assistant"),
        Events.messageDelta("r1", "m1", "one "),
        Events.messageDelta("r1", "m2", "two "),
        Events.messageDelta("r1", "m1", "uno"),
        Events.messageEnd("r1", "m1", "complete"),
        Events.of("test.note", null, Json.object().put("n", 2)),
        Events.messageDelta("r1", "m2", "dos"),
        Events.messageEnd("r1", "m2", "complete"),
        Events.messageStart("r1", "m3", "assistant"),
        Events.messageDelta("r1", "m3", "three "),
        Events.messageDelta("r1", "m3", "so far"))).get(30, TimeUnit.SECONDS);

    try (ChaosProxy proxy = new ChaosProxy(node.httpPort());
        TetherClient viaProxy = TetherClient.builder(URI.create(proxy.baseUrl())).token(token).build()) {
      // The first connection ends after the first rolled-up frame and a bit of the second.
      proxy.cutNextAfterFrames(1, 5);
      Recorder reader = new Recorder();
      TetherSession session = viaProxy.session(id).device("roller")
          .granularity(TetherSession.Granularity.MESSAGE).listener(reader).open();
      String caughtUp = session.upToDate().get(30, TimeUnit.SECONDS);

      // The session's own presence events (this device joining, leaving at the cut, joining
      // again) are interleaved; the history is compared without them.
      List<String> seen = reader.events().stream()
          .filter(e -> !e.event().type().startsWith("presence."))
          .map(SessionReplayText::describe).toList();
      assertEquals(List.of("test.note 1", "message m1 one uno", "test.note 2",
          "message m2 two dos", "message.start m3 three so far"), seen);
      assertStrictlyIncreasing(reader.events().stream()
          .filter(e -> !(e.event() instanceof Event.MessageStart)).toList());
      assertEquals(List.of(ConnectionState.CATCHING_UP, ConnectionState.RECONNECTING),
          reader.states().stream().map(Recorder.Timed::value).toList().subList(0, 2));

      // Live from here: raw deltas, after the offset caught up to.
      producer.send(Events.messageDelta("r1", "m3", "!")).get(30, TimeUnit.SECONDS);
      SessionEvent live = reader.await(e -> e.event() instanceof Event.MessageDelta, WAIT);
      assertTrue(SessionEvent.isAfter(live.offset(), caughtUp));
      assertEquals("!", ((Event.MessageDelta) live.event()).text());
    }
  }

  static Event tick(int n) {
    ObjectNode data = Json.object().put("n", n);
    return Events.of("test.tick", null, data);
  }

  private static int lives(Recorder r) {
    return (int) r.states().stream().filter(s -> s.value() == ConnectionState.LIVE).count();
  }

  private static long firstLiveAfter(Recorder r, long nanos) {
    return r.states().stream().filter(s -> s.value() == ConnectionState.LIVE && s.nanos() > nanos)
        .mapToLong(s -> (s.nanos() - nanos) / 1_000_000).findFirst().orElseThrow();
  }

  static void assertStrictlyIncreasing(List<SessionEvent> events) {
    for (int i = 1; i < events.size(); i++) {
      assertTrue(SessionEvent.isAfter(events.get(i).offset(), events.get(i - 1).offset()),
          "offsets increase at " + i + ": " + events.get(i - 1).offset() + " then "
              + events.get(i).offset());
    }
  }

  /** A short text of an event for comparing replays. */
  static final class SessionReplayText {
    static String describe(SessionEvent e) {
      Event ev = e.event();
      if (ev instanceof Event.Message m) {
        return "message " + m.id() + " " + m.text();
      }
      if (ev instanceof Event.MessageStart s) {
        return "message.start " + s.id() + " " + s.text();
      }
      return ev.type() + (ev.data().has("n") ? " " + ev.data().get("n").asInt() : "");
    }
  }
}
