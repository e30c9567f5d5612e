package io.tether.actors.session.stream;

import io.tether.actors.session.SessionPush;
import io.tether.actors.session.SessionLedger;
import io.tether.actors.session.Offset;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.Session;
import io.tether.actors.session.live.SessionLiveSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session.AppendFailure;
import io.tether.actors.session.Session.AppendRejected;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.ControlAccepted;
import io.tether.actors.session.Session.ControlRejected;
import io.tether.actors.session.Session.ControlReply;
import io.tether.actors.session.Session.ControlSpec;
import io.tether.actors.session.Session.CreateReply;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON-session side of the stream entity: run fences (by run and by input message) checked
 * atomically with appends and surviving recovery, steer on running runs only, reserved event
 * types, live pushes that name the offset before them, presence from subscriptions, agent loss
 * after the grace period, and coalesced read cursors.
 */
class SessionLiveTest {

  private static final Config CONFIG = ConfigFactory.parseString(
          "pekko.loglevel = INFO\n"
              + "tether.session.read-journal-plugin-id = \"pekko.persistence.testkit.query\"")
      .withFallback(EventSourcedBehaviorTestKit.config())
      .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
      .withFallback(ConfigFactory.load())
      .resolve();

  private static final ActorTestKit testKit = ActorTestKit.create("SessionLiveTest", CONFIG);
  private static final AtomicInteger ids = new AtomicInteger();
  private static final SessionLiveSettings LIVE = new SessionLiveSettings(Duration.ofSeconds(2),
      Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofMillis(50));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static SessionSettings settings() {
    return new SessionSettings(100, 2, 1 << 20, 1024, 256 * 1024, 1 << 24, 10000, 1 << 20,
        "pekko.persistence.testkit.query", false, Duration.ofSeconds(30));
  }

  private static org.apache.pekko.actor.typed.Behavior<Session.Command> behavior(String id) {
    return SessionEntity.create(id, SessionSetup.forTest(settings(), LIVE,
        new JournalReader(testKit.system(), "pekko.persistence.testkit.query")));
  }

  private static EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit() {
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        behavior("live-" + ids.incrementAndGet()));
  }

  private static CreateSpec json() {
    return new CreateSpec("application/json", null, null, null, false, List.of(), null, null,
        List.of());
  }

  private static AppendSpec events(String... json) {
    return new AppendSpec("application/json",
        java.util.Arrays.stream(json).map(s -> s.getBytes(StandardCharsets.UTF_8)).toList(),
        null, null, false);
  }

  private static ControlSpec cancelRun(String run) {
    return new ControlSpec("cancel", "c", run, null, null, "user", "laptop");
  }

  @Test
  void cancelFencesTheRunAtomicallyAndTheFenceSurvivesRecovery() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    assertInstanceOf(Created.class,
        kit.<CreateReply>runCommand(r -> new Session.Create(json(), r)).reply());
    kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"producer\":\"a1\"}",
        "{\"type\":\"message.delta\",\"run\":\"r1\",\"data\":{\"text\":\"hi\"}}"), r));
    ControlReply cancelled = kit.<ControlReply>runCommand(
        r -> new Session.Control(cancelRun("r1"), r)).reply();
    Offset fence = assertInstanceOf(ControlAccepted.class, cancelled).offset();
    SessionLedger.RunEntry run = kit.getState().ledger().runs().get("r1");
    assertEquals(fence, run.fence());
    assertEquals("cancelled", run.status(), "the session ends a running run it cancels");

    AppendReply late = kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"message.delta\",\"run\":\"r1\",\"data\":{\"text\":\"late\"}}"), r)).reply();
    assertEquals(AppendFailure.FENCED, assertInstanceOf(AppendRejected.class, late).failure());

    StreamState recovered = kit.restart().state();
    assertEquals(fence, recovered.ledger().runs().get("r1").fence());
    AppendReply afterRestart = kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"tool.call\",\"run\":\"r1\",\"data\":{}}"), r)).reply();
    assertEquals(AppendFailure.FENCED,
        assertInstanceOf(AppendRejected.class, afterRestart).failure());
    assertEquals(fence, assertInstanceOf(ControlAccepted.class, kit.<ControlReply>runCommand(
        r -> new Session.Control(cancelRun("r1"), r)).reply()).offset(),
        "cancelling again reports the same fence");
    assertInstanceOf(Appended.class, kit.<AppendReply>runCommand(r -> new Session.Append(
        events("{\"type\":\"run.start\",\"run\":\"r2\"}"), r)).reply());
  }

  @Test
  void cancelByInputMessageRefusesTheRunThatWouldAnswerIt() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    assertInstanceOf(ControlAccepted.class, kit.<ControlReply>runCommand(r -> new Session.Control(
        new ControlSpec("cancel", "c", null, "in-1", null, "user", null), r)).reply());
    AppendReply start = kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"data\":{\"input\":\"in-1\"}}"), r)).reply();
    assertEquals(AppendFailure.FENCED, assertInstanceOf(AppendRejected.class, start).failure());
  }

  @Test
  void steerNeedsARunningRunAndReservedTypesAreRefused() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    ControlReply early = kit.<ControlReply>runCommand(r -> new Session.Control(
        new ControlSpec("steer", "s1", "r1", null, "go", "user", null), r)).reply();
    assertEquals("not-running", assertInstanceOf(ControlRejected.class, early).code());
    kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"producer\":\"a1\"}"), r));
    assertInstanceOf(ControlAccepted.class, kit.<ControlReply>runCommand(r -> new Session.Control(
        new ControlSpec("steer", "s1", "r1", null, "go", "user", null), r)).reply());
    AppendReply forged = kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"control.cancel\",\"run\":\"r1\"}"), r)).reply();
    assertEquals(AppendFailure.RESERVED_TYPE,
        assertInstanceOf(AppendRejected.class, forged).failure());
  }

  private static ActorRef<Session.Command> createdEntity() {
    ActorRef<Session.Command> entity = testKit.spawn(behavior("live-" + ids.incrementAndGet()));
    TestProbe<CreateReply> created = testKit.createTestProbe();
    entity.tell(new Session.Create(json(), created.getRef()));
    created.expectMessageClass(Created.class);
    return entity;
  }

  private static String text(byte[] item) {
    return new String(item, StandardCharsets.UTF_8);
  }

  @Test
  void subscribersGetPushesThatNameTheOffsetBeforeThemAndPresenceFollowsThem() {
    ActorRef<Session.Command> entity = createdEntity();
    TestProbe<SessionPush> watcher = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("laptop", "client", watcher.getRef()));
    SessionPush.Subscribed subscribed = watcher.expectMessageClass(SessionPush.Subscribed.class);
    SessionPush.Items joined = watcher.expectMessageClass(SessionPush.Items.class);
    assertEquals(subscribed.tail(), joined.prev());
    assertTrue(text(joined.items().get(0)).contains("presence.joined"));

    TestProbe<AppendReply> appended = testKit.createTestProbe();
    entity.tell(new Session.Append(events("{\"type\":\"run.start\",\"run\":\"r1\","
        + "\"producer\":\"agent-1\"}"), appended.getRef()));
    Offset at = appended.expectMessageClass(Appended.class).next();
    SessionPush.Items pushed = watcher.expectMessageClass(SessionPush.Items.class);
    assertEquals(joined.offsets().get(0), pushed.prev());
    assertEquals(List.of(at), pushed.offsets());

    TestProbe<SessionPush> agent = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("agent-1", "agent", agent.getRef()));
    agent.expectMessageClass(SessionPush.Subscribed.class);
    assertTrue(text(watcher.expectMessageClass(SessionPush.Items.class).items().get(0))
        .contains("agent-1"));
    entity.tell(new Session.Unsubscribe(agent.getRef()));
    String left = text(watcher.expectMessageClass(SessionPush.Items.class).items().get(0));
    assertTrue(left.contains("presence.left") && left.contains("agent-1"), left);
    String lost = text(watcher.expectMessageClass(SessionPush.Items.class, Duration.ofSeconds(5))
        .items().get(0));
    assertTrue(lost.contains("run.end") && lost.contains("\"lost\""), lost);
  }

  @Test
  void aRunWhoseProducerLeftIsLostEvenWhenTheSessionRestartsDuringTheGracePeriod() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    TestProbe<SessionPush> agent = testKit.createTestProbe();
    kit.runCommand(new Session.Subscribe("agent-1", "agent", agent.getRef()));
    kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"producer\":\"agent-1\"}"), r));
    assertTrue(kit.getState().ledger().runs().get("r1").attached());
    kit.runCommand(new Session.Unsubscribe(agent.getRef()));
    TestProbe<Void> wait = testKit.createTestProbe();
    wait.awaitAssert(() -> {
      assertTrue(kit.getState().ledger().present().isEmpty());
      return null;
    });
    kit.restart();
    wait.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals("lost", kit.getState().ledger().runs().get("r1").status());
      return null;
    });
  }

  @Test
  void readCursorsArePersistedCoalescedWithUnreadCounts() {
    ActorRef<Session.Command> entity = createdEntity();
    TestProbe<AppendReply> appended = testKit.createTestProbe();
    entity.tell(new Session.Append(events("{\"type\":\"message.end\",\"data\":{\"id\":\"m1\"}}"),
        appended.getRef()));
    Offset first = appended.expectMessageClass(Appended.class).next();
    entity.tell(new Session.Append(events("{\"type\":\"message.end\",\"data\":{\"id\":\"m2\"}}"),
        appended.getRef()));
    appended.expectMessageClass(Appended.class);
    entity.tell(new Session.AckCursor("phone", Offset.ZERO));
    entity.tell(new Session.AckCursor("phone", first));
    TestProbe<Session.SessionSummary> described = testKit.createTestProbe();
    described.awaitAssert(() -> {
      entity.tell(new Session.DescribeSession(described.getRef()));
      SessionLedger ledger = described.receiveMessage().ledger();
      assertEquals(first, ledger.cursors().get("phone"));
      assertEquals(1, ledger.unreadAfter(ledger.cursors().get("phone")));
      return null;
    });
  }

  @Test
  void theFenceRefusesDeltasThatNameNoRunAndClosesTheRunsOpenMessages() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"producer\":\"a1\"}",
        "{\"type\":\"message.start\",\"run\":\"r1\",\"data\":{\"id\":\"m1\"}}",
        "{\"type\":\"message.start\",\"run\":\"r1\",\"data\":{\"id\":\"m2\"}}",
        "{\"type\":\"message.end\",\"run\":\"r1\",\"data\":{\"id\":\"m2\"}}",
        "{\"type\":\"message.start\",\"data\":{\"id\":\"user-1\"}}"), r));
    Offset fence = assertInstanceOf(ControlAccepted.class, kit.<ControlReply>runCommand(
        r -> new Session.Control(cancelRun("r1"), r)).reply()).offset();
    TestProbe<Void> wait = testKit.createTestProbe();
    wait.awaitAssert(() -> {
      assertEquals("cancelled", kit.getState().ledger().runs().get("r1").status());
      return null;
    });
    List<String> after = new java.util.ArrayList<>();
    for (var batch : kit.getState().recent()) {
      for (int i = 0; i < batch.items().size(); i++) {
        if (new Offset(batch.position(), i + 1).isAfter(fence)) {
          after.add(text(batch.items().get(i)));
        }
      }
    }
    assertEquals(2, after.size(), after.toString());
    assertTrue(after.get(0).contains("\"message.end\"") && after.get(0).contains("\"m1\"")
        && after.get(0).contains("\"cancelled\""), "the open message closes first: " + after);
    assertTrue(after.get(1).contains("\"run.end\""), after.toString());
    assertTrue(kit.getState().ledger().openMessagesOf("r1").isEmpty());
    for (String late : List.of(
        "{\"type\":\"message.delta\",\"data\":{\"id\":\"m1\",\"text\":\"x\"}}",
        "{\"type\":\"message.end\",\"data\":{\"id\":\"m1\",\"status\":\"complete\"}}")) {
      AppendReply refused = kit.<AppendReply>runCommand(r -> new Session.Append(events(late), r))
          .reply();
      assertEquals(AppendFailure.FENCED, assertInstanceOf(AppendRejected.class, refused).failure(),
          late);
    }
    assertInstanceOf(Appended.class, kit.<AppendReply>runCommand(r -> new Session.Append(events(
        "{\"type\":\"message.delta\",\"data\":{\"id\":\"user-1\",\"text\":\"x\"}}"), r))
        .reply(), "a message of no run is not fenced");
  }

  @Test
  void aCancelOfARunThatNeverExistedIsRefused() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit = kit();
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    ControlReply reply = kit.<ControlReply>runCommand(
        r -> new Session.Control(cancelRun("ghost"), r)).reply();
    assertEquals("unknown-run", assertInstanceOf(ControlRejected.class, reply).code());
    assertTrue(kit.getState().ledger().runs().isEmpty(), "nothing was written");
  }

  @Test
  void aLostRunClosesItsOpenMessagesBeforeItsEnd() {
    ActorRef<Session.Command> entity = createdEntity();
    TestProbe<SessionPush> agent = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("agent-1", "agent", agent.getRef()));
    TestProbe<AppendReply> appended = testKit.createTestProbe();
    entity.tell(new Session.Append(events(
        "{\"type\":\"run.start\",\"run\":\"r1\",\"producer\":\"agent-1\"}",
        "{\"type\":\"message.start\",\"run\":\"r1\",\"data\":{\"id\":\"m1\"}}"),
        appended.getRef()));
    appended.expectMessageClass(Appended.class);
    TestProbe<SessionPush> watcher = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("laptop", "client", watcher.getRef()));
    entity.tell(new Session.Unsubscribe(agent.getRef()));
    SessionPush.Items lost = watcher.fishForMessage(Duration.ofSeconds(10), push ->
        push instanceof SessionPush.Items items && items.items().stream()
            .anyMatch(i -> text(i).contains("run.end"))
            ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
            : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore())
        .stream().map(SessionPush.Items.class::cast).reduce((a, b) -> b).orElseThrow();
    List<String> texts = lost.items().stream().map(SessionLiveTest::text).toList();
    assertEquals(2, texts.size(), texts.toString());
    assertTrue(texts.get(0).contains("message.end") && texts.get(0).contains("\"lost\""),
        texts.toString());
    assertTrue(texts.get(1).contains("run.end") && texts.get(1).contains("\"lost\""),
        texts.toString());
  }

  @Test
  void presenceEndsWhenASubscriberMissesItsHeartbeats() {
    ActorRef<Session.Command> entity = createdEntity();
    TestProbe<SessionPush> silent = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("tablet", "client", silent.getRef()));
    TestProbe<SessionPush> watcher = testKit.createTestProbe();
    entity.tell(new Session.Subscribe("laptop", "client", watcher.getRef()));
    long start = System.nanoTime();
    // Only the laptop heartbeats (re-subscribes); the tablet's connection never does again.
    TestProbe<Void> beat = testKit.createTestProbe();
    String left = null;
    while (left == null && System.nanoTime() - start < Duration.ofSeconds(20).toNanos()) {
      entity.tell(new Session.Subscribe("laptop", "client", watcher.getRef()));
      SessionPush push = watcher.receiveMessage(Duration.ofSeconds(5));
      if (push instanceof SessionPush.Items items) {
        for (byte[] item : items.items()) {
          if (text(item).contains("presence.left")) {
            left = text(item);
          }
        }
      }
    }
    long elapsed = Duration.ofNanos(System.nanoTime() - start).toMillis();
    assertTrue(left != null && left.contains("tablet"), "no presence.left for the silent tablet");
    assertTrue(elapsed >= LIVE.presenceTimeout().toMillis(),
        "left after " + elapsed + " ms, before the presence timeout");
    TestProbe<Session.SessionSummary> described = testKit.createTestProbe();
    entity.tell(new Session.DescribeSession(described.getRef()));
    SessionLedger ledger = described.receiveMessage().ledger();
    assertEquals(java.util.Set.of("laptop"), ledger.present().keySet());
  }

  @Test
  void cursorAcksWithinTheFlushIntervalArePersistedAsOneEvent() {
    String id = "cursors-" + ids.incrementAndGet();
    // A window long enough that the ten acks below surely fall into one, however loaded the
    // machine; the coalescing, not the interval, is under test.
    SessionLiveSettings slow = new SessionLiveSettings(LIVE.presenceTimeout(),
        LIVE.sweepInterval(), LIVE.lossGrace(), Duration.ofSeconds(2));
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), SessionEntity.create(id,
            SessionSetup.forTest(settings(), slow,
                new JournalReader(testKit.system(), "pekko.persistence.testkit.query"))));
    kit.<CreateReply>runCommand(r -> new Session.Create(json(), r));
    Offset at = assertInstanceOf(Appended.class, kit.<AppendReply>runCommand(
        r -> new Session.Append(events("{\"type\":\"run.start\",\"run\":\"r1\"}",
            "{\"type\":\"run.end\",\"run\":\"r1\"}"), r)).reply()).next();
    long before = kit.getState().seqNr();
    for (int i = 0; i < 5; i++) {
      kit.runCommand(new Session.AckCursor("phone", at));
      kit.runCommand(new Session.AckCursor("tablet", at));
    }
    TestProbe<Void> wait = testKit.createTestProbe();
    wait.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(at, kit.getState().ledger().cursors().get("phone"));
      assertEquals(at, kit.getState().ledger().cursors().get("tablet"));
      return null;
    });
    var persisted = org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit
        .create(testKit.system()).persistedInStorage(Session.persistenceIdOf(id).id());
    long cursorEvents = persisted.stream().filter(e -> e instanceof SessionEvent.CursorsMoved)
        .count();
    assertEquals(1, cursorEvents, "ten acks in one window are one write: " + persisted);
    assertEquals(before + 1, kit.getState().seqNr());
  }

  @Test
  void aReplayOlderThanTheTailReadsBoundedRangesAndPassesRangesWithoutItems() {
    // Two batches in memory, so the history before them is read back from the journal.
    SessionSettings small = new SessionSettings(100, 2, 1 << 20, 2, 256 * 1024, 1 << 24,
        10000, 1 << 20, "pekko.persistence.testkit.query", false, Duration.ofSeconds(30));
    String id = "replay-" + ids.incrementAndGet();
    ActorRef<Session.Command> entity = testKit.spawn(SessionEntity.create(id,
        SessionSetup.forTest(small, LIVE,
            new JournalReader(testKit.system(), "pekko.persistence.testkit.query"))));
    TestProbe<CreateReply> created = testKit.createTestProbe();
    entity.tell(new Session.Create(json(), created.getRef()));
    created.expectMessageClass(Created.class);
    TestProbe<AppendReply> appended = testKit.createTestProbe();
    entity.tell(new Session.Append(events("{\"type\":\"note\",\"data\":{\"n\":0}}"),
        appended.getRef()));
    appended.expectMessageClass(Appended.class);
    // 35 events that hold no item (a cursor per device, each flushed on its own), then three
    // batches of one item.
    var journal = org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit
        .create(testKit.system());
    String persistenceId = Session.persistenceIdOf(id).id();
    TestProbe<Void> wait = testKit.createTestProbe();
    for (int i = 0; i < 35; i++) {
      entity.tell(new Session.AckCursor("device-" + i, Offset.ZERO));
      long expected = i + 1;
      wait.awaitAssert(() -> {
        assertEquals(expected, journal.persistedInStorage(persistenceId).stream()
            .filter(e -> e instanceof SessionEvent.CursorsMoved).count());
        return null;
      });
    }
    for (int n = 1; n <= 3; n++) {
      entity.tell(new Session.Append(events("{\"type\":\"note\",\"data\":{\"n\":" + n + "}}"),
          appended.getRef()));
      appended.expectMessageClass(Appended.class);
    }

    // A budget of one item per replay: each journal read covers the fewest events it may (16).
    TestProbe<SessionPush> subscriber = testKit.createTestProbe();
    List<String> seen = new java.util.ArrayList<>();
    Offset from = Offset.ZERO;
    int replays = 0;
    while (true) {
      entity.tell(new Session.Replay(from, 1, subscriber.getRef()));
      SessionPush.Replayed replayed = subscriber.expectMessageClass(SessionPush.Replayed.class,
          Duration.ofSeconds(10));
      replays++;
      assertEquals(from, replayed.from());
      assertTrue(replayed.next().isAfter(from), "replay " + replays + " did not move on");
      // 16 events on from the first one after it (ZERO is before the first event)
      assertTrue(replayed.next().position() - Math.max(1, from.position()) <= 16,
          "one replay read from " + from + " to " + replayed.next());
      replayed.items().forEach(item -> seen.add(text(item)));
      from = replayed.next();
      if (replayed.upToDate()) {
        break;
      }
      assertTrue(replays < 20, "no end after " + replays + " replays");
    }
    assertEquals(List.of(0, 1, 2, 3), seen.stream()
        .map(t -> Integer.parseInt(t.replaceAll(".*\"n\":(\\d+).*", "$1"))).toList());
    assertTrue(replays >= 4, "the 35 events without items took no replay of their own");
  }
}
