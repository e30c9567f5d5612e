package io.tether.actors.session.stream;

import io.tether.actors.session.live.SessionLiveSettings;
import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Offset;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.Session;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session.AppendFailure;
import io.tether.actors.session.Session.AppendRejected;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.CreateReply;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import io.tether.actors.session.SessionEvent.ItemsAppended;
import io.tether.actors.session.Session.ReadReply;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import io.tether.actors.session.SessionEvent.StreamClosed;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stream entity's contract, on the persistence testkit: group commit, idempotent producers,
 * close, the group-commit buffer bound, recovery, and catch-up reads older than the tail.
 */
class SessionEntityTest {

  private static final Config CONFIG = ConfigFactory.parseString(
          "pekko.loglevel = INFO\n"
              + "tether.session.read-journal-plugin-id = \"pekko.persistence.testkit.query\"")
      .withFallback(EventSourcedBehaviorTestKit.config())
      .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
      .withFallback(ConfigFactory.load())
      .resolve();

  private static final ActorTestKit testKit = ActorTestKit.create("SessionEntityTest", CONFIG);
  private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
  private static final SnapshotTestKit snapshots = SnapshotTestKit.create(testKit.system());
  private static final AtomicInteger ids = new AtomicInteger();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void resetJournal() {
    journal.resetPolicy();
  }

  private static SessionSettings settings(int maxBufferedAppends, int tailMaxBatches) {
    return new SessionSettings(100, 2, 1 << 20, tailMaxBatches, 256 * 1024, 1 << 24,
        maxBufferedAppends, 1 << 20, "pekko.persistence.testkit.query", false,
        Duration.ofSeconds(30));
  }

  private static ActorRef<Session.Command> spawn(String id, SessionSettings settings) {
    return testKit.spawn(SessionEntity.create(id, SessionSetup.forTest(settings,
        SessionLiveSettings.defaults(),
        new JournalReader(testKit.system(), settings.readJournalPluginId()))));
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static CreateSpec plain(String contentType) {
    return new CreateSpec(contentType, null, null, null, false, List.of(), null, null, List.of());
  }

  private static AppendSpec append(String text, ProducerTuple producer) {
    return new AppendSpec("text/plain", List.of(bytes(text)), producer, null, false);
  }

  private static <T> T ask(ActorRef<Session.Command> entity,
      java.util.function.Function<ActorRef<T>, Session.Command> message, Class<T> type) {
    TestProbe<T> probe = testKit.createTestProbe(type);
    entity.tell(message.apply(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5));
  }

  private static ActorRef<Session.Command> created(String id, SessionSettings settings) {
    ActorRef<Session.Command> entity = spawn(id, settings);
    CreateReply reply = ask(entity, r -> new Session.Create(plain("text/plain"), r),
        CreateReply.class);
    assertInstanceOf(Created.class, reply);
    return entity;
  }

  /** Blocks the journal's next write of {@code persistenceId} until the latch opens. */
  private static CountDownLatch holdNextWrite(String persistenceId) {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger writes = new AtomicInteger();
    journal.withPolicy(new ProcessingPolicy<JournalOperation>() {
      @Override
      public ProcessingResult tryProcess(String pid, JournalOperation op) {
        if (pid.equals(persistenceId) && op instanceof WriteEvents
            && writes.getAndIncrement() == 0) {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return ProcessingSuccess.getInstance();
      }
    });
    return release;
  }

  private static List<ItemsAppended> appendedEvents(String persistenceId) {
    List<ItemsAppended> events = new ArrayList<>();
    for (Object event : journal.persistedInStorage(persistenceId)) {
      if (event instanceof ItemsAppended appended) {
        events.add(appended);
      }
    }
    return events;
  }

  @Test
  void appendsArrivingDuringAWriteAreCommittedAsOneEventAndEachAckedWithItsOwnOffset()
      throws Exception {
    String id = "group-" + ids.incrementAndGet();
    String pid = Session.persistenceIdOf(id).id();
    ActorRef<Session.Command> entity = created(id, settings(100, 1024));
    CountDownLatch release = holdNextWrite(pid);

    TestProbe<AppendReply> first = testKit.createTestProbe(AppendReply.class);
    entity.tell(new Session.Append(append("a", null), first.getRef()));
    Thread.sleep(200);
    List<TestProbe<AppendReply>> waiting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestProbe<AppendReply> probe = testKit.createTestProbe(AppendReply.class);
      entity.tell(new Session.Append(append("b" + i, new ProducerTuple("p" + i, 0, 0)),
          probe.getRef()));
      waiting.add(probe);
    }
    first.expectNoMessage(Duration.ofMillis(200));
    release.countDown();

    Appended a = (Appended) first.receiveMessage(Duration.ofSeconds(5));
    List<Appended> acks = new ArrayList<>();
    for (TestProbe<AppendReply> probe : waiting) {
      acks.add((Appended) probe.receiveMessage(Duration.ofSeconds(5)));
    }
    List<ItemsAppended> events = appendedEvents(pid);
    assertEquals(2, events.size(), "one event for the first write, one for the group");
    assertEquals(3, events.get(1).items().size());
    assertEquals(3, events.get(1).producers().size(), "producer table in the same event");
    for (int i = 0; i < 3; i++) {
      Appended ack = acks.get(i);
      assertEquals(acks.get(0).next().position(), ack.next().position());
      assertEquals(i + 1, ack.next().index(), "each producer gets its own offset");
      assertEquals(0L, ack.producerSeq());
      assertFalse(ack.duplicate());
    }
    assertTrue(acks.get(0).next().isAfter(a.next()));
  }

  @Test
  void producerDuplicatesGapsAndStaleEpochsAreAnsweredWithoutWriting() {
    String id = "producer-" + ids.incrementAndGet();
    ActorRef<Session.Command> entity = created(id, settings(100, 1024));
    java.util.function.Function<ProducerTuple, AppendReply> send = p ->
        ask(entity, r -> new Session.Append(append("x", p), r), AppendReply.class);

    Appended fresh = (Appended) send.apply(new ProducerTuple("w", 0, 0));
    assertFalse(fresh.duplicate());
    Appended duplicate = (Appended) send.apply(new ProducerTuple("w", 0, 0));
    assertTrue(duplicate.duplicate(), "retry of seq 0 is a duplicate (HTTP 204)");
    assertEquals(0L, duplicate.producerSeq());

    AppendRejected gap = (AppendRejected) send.apply(new ProducerTuple("w", 0, 2));
    assertEquals(AppendFailure.SEQUENCE_GAP, gap.failure(), "HTTP 409");
    assertEquals(1L, gap.expectedSeq());
    assertEquals(2L, gap.receivedSeq());

    Appended bumped = (Appended) send.apply(new ProducerTuple("w", 1, 0));
    assertEquals(1L, bumped.producerEpoch(), "new epoch accepted (HTTP 200)");
    AppendRejected stale = (AppendRejected) send.apply(new ProducerTuple("w", 0, 1));
    assertEquals(AppendFailure.STALE_EPOCH, stale.failure(), "HTTP 403");
    assertEquals(1L, stale.producerEpoch());
    AppendRejected badEpochStart = (AppendRejected) send.apply(new ProducerTuple("w", 2, 3));
    assertEquals(AppendFailure.INVALID_EPOCH_SEQ, badEpochStart.failure(), "HTTP 400");

    ReadResult all = (ReadResult) ask(entity, r -> new Session.Read(
        new ReadSpec(null, false, null, 1 << 20, 0, false), r), ReadReply.class);
    assertEquals(2, all.items().size(), "duplicates and rejections wrote nothing");
  }

  @Test
  void closingIsDurableAndIdempotentAndRejectsLaterAppends() {
    String id = "close-" + ids.incrementAndGet();
    ActorRef<Session.Command> entity = created(id, settings(100, 1024));
    ProducerTuple closer = new ProducerTuple("c", 0, 0);
    Appended closed = (Appended) ask(entity, r -> new Session.Append(new AppendSpec(
        "text/plain", List.of(bytes("last")), closer, null, true), r), AppendReply.class);
    assertTrue(closed.closed());

    Appended again = (Appended) ask(entity, r -> new Session.Append(new AppendSpec(
        "text/plain", List.of(bytes("last")), closer, null, true), r), AppendReply.class);
    assertTrue(again.duplicate(), "the closing tuple is deduplicated");
    Appended closeOnly = (Appended) ask(entity, r -> new Session.Append(new AppendSpec(
        null, List.of(), null, null, true), r), AppendReply.class);
    assertTrue(closeOnly.closed(), "close-only is idempotent");

    AppendRejected rejected = (AppendRejected) ask(entity,
        r -> new Session.Append(append("more", null), r), AppendReply.class);
    assertEquals(AppendFailure.CLOSED, rejected.failure());
    assertEquals(closed.next(), rejected.tail());
    assertTrue(journal.persistedInStorage(Session.persistenceIdOf(id).id()).stream()
        .anyMatch(e -> e instanceof StreamClosed));
  }

  @Test
  void aFullGroupCommitBufferAnswersOverloaded() throws Exception {
    String id = "bound-" + ids.incrementAndGet();
    ActorRef<Session.Command> entity = created(id, settings(2, 1024));
    CountDownLatch release = holdNextWrite(Session.persistenceIdOf(id).id());
    TestProbe<AppendReply> first = testKit.createTestProbe(AppendReply.class);
    entity.tell(new Session.Append(append("a", null), first.getRef()));
    Thread.sleep(200);
    List<TestProbe<AppendReply>> probes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestProbe<AppendReply> probe = testKit.createTestProbe(AppendReply.class);
      entity.tell(new Session.Append(append("b" + i, null), probe.getRef()));
      probes.add(probe);
    }
    release.countDown();
    assertInstanceOf(Appended.class, first.receiveMessage(Duration.ofSeconds(5)));
    assertInstanceOf(Appended.class, probes.get(0).receiveMessage(Duration.ofSeconds(5)));
    assertInstanceOf(Appended.class, probes.get(1).receiveMessage(Duration.ofSeconds(5)));
    AppendRejected overloaded =
        (AppendRejected) probes.get(2).receiveMessage(Duration.ofSeconds(5));
    assertEquals(AppendFailure.OVERLOADED, overloaded.failure());
  }

  @Test
  void stoppingWaitsForBufferedAppendsToBeDurable() throws Exception {
    String id = "stop-" + ids.incrementAndGet();
    ActorRef<Session.Command> entity = created(id, settings(100, 1024));
    CountDownLatch release = holdNextWrite(Session.persistenceIdOf(id).id());
    TestProbe<AppendReply> first = testKit.createTestProbe(AppendReply.class);
    entity.tell(new Session.Append(append("a", null), first.getRef()));
    Thread.sleep(200);
    TestProbe<AppendReply> second = testKit.createTestProbe(AppendReply.class);
    entity.tell(new Session.Append(append("b", null), second.getRef()));
    entity.tell(new Session.Stop());
    release.countDown();
    assertInstanceOf(Appended.class, first.receiveMessage(Duration.ofSeconds(5)));
    assertInstanceOf(Appended.class, second.receiveMessage(Duration.ofSeconds(5)));
    first.expectTerminated(entity, Duration.ofSeconds(5));
    assertEquals(2, appendedEvents(Session.persistenceIdOf(id).id()).size());
  }

  @Test
  void passivationKeepsTheSlidingTtlWindowAndSchedulesAWakeUpAtTheDeadline() throws Exception {
    String id = "ttl-" + ids.incrementAndGet();
    List<Duration> wakeUps = new java.util.concurrent.CopyOnWriteArrayList<>();
    SessionSetup.Peers recording = new SessionSetup.Peers() {
      @Override
      public void releaseFork(String sourceId, String forkId) {}

      @Override
      public void checkExpiryAfter(String streamId, Duration delay) {
        wakeUps.add(delay);
      }
    };
    SessionSettings settings = settings(100, 1024);
    java.util.function.Supplier<ActorRef<Session.Command>> spawnOne = () ->
        testKit.spawn(SessionEntity.create(id, SessionSetup.forTest(settings,
            SessionLiveSettings.defaults(),
            new JournalReader(testKit.system(), settings.readJournalPluginId()))
            .withPeers(StreamPurger.none(), recording)));
    long start = System.currentTimeMillis();
    ActorRef<Session.Command> first = spawnOne.get();
    assertInstanceOf(Created.class, ask(first, r -> new Session.Create(new CreateSpec(
        "text/plain", 2L, null, null, false, List.of(), null, null, List.of()), r),
        CreateReply.class));
    Thread.sleep(1000);
    TestProbe<Object> watcher = testKit.createTestProbe();
    first.tell(new Session.Stop());
    watcher.expectTerminated(first, Duration.ofSeconds(5));
    assertEquals(1, wakeUps.size(), "a wake-up at the TTL deadline");
    assertTrue(wakeUps.get(0).toMillis() <= 1200);

    ActorRef<Session.Command> second = spawnOne.get();
    Thread.sleep(Math.max(0, start + 2400 - System.currentTimeMillis()));
    Session.Described described = ask(second, Session.Describe::new, Session.Described.class);
    assertEquals(Session.Lookup.NOT_FOUND, described.lookup(),
        "expired 2 s after the last access, not 2 s after the restart");
  }

  @Test
  void recoversItsDataAndServesRangesOlderThanTheTailFromTheJournal() {
    String id = "recover-" + ids.incrementAndGet();
    SessionSettings small = settings(100, 2);
    ActorRef<Session.Command> entity = created(id, small);
    for (int i = 0; i < 5; i++) {
      String text = "m" + i;
      assertInstanceOf(Appended.class, ask(entity,
          r -> new Session.Append(append(text, null), r), AppendReply.class));
    }
    testKit.stop(entity);
    ActorRef<Session.Command> recovered = spawn(id, small);
    ReadResult all = (ReadResult) ask(recovered, r -> new Session.Read(
        new ReadSpec(null, false, null, 1 << 20, 0, false), r), ReadReply.class);
    StringBuilder text = new StringBuilder();
    all.items().forEach(b -> text.append(new String(b, StandardCharsets.UTF_8)));
    assertEquals("m0m1m2m3m4", text.toString(), "the first items come from the journal");
    assertTrue(all.upToDate());
  }

  @Test
  void snapshotsLeaveTheTailOutAndRecoveryServesEveryItemOnceInOrder() {
    String id = "snapshot-" + ids.incrementAndGet();
    String pid = Session.persistenceIdOf(id).id();
    // A snapshot every 5 events, and a tail that would hold every item.
    SessionSettings settings = new SessionSettings(5, 2, 1 << 20, 1024, 256 * 1024, 1 << 24,
        100, 1 << 20, "pekko.persistence.testkit.query", false, Duration.ofSeconds(30));
    ActorRef<Session.Command> entity = created(id, settings);
    for (int i = 0; i < 12; i++) {
      String text = "m" + i + ";";
      assertInstanceOf(Appended.class, ask(entity,
          r -> new Session.Append(append(text, null), r), AppendReply.class));
    }
    List<StreamState> stored = snapshots.persistedInStorage(pid).stream()
        .map(p -> (StreamState) p.second()).toList();
    assertFalse(stored.isEmpty(), "no snapshot was taken");
    for (StreamState snapshot : stored) {
      assertEquals(List.of(), snapshot.recent(), "a snapshot kept the in-memory tail");
      assertEquals(0, snapshot.recentBytes());
      assertEquals(snapshot.tail(), snapshot.recentFrom());
      assertTrue(snapshot.tail().isAfter(Offset.ZERO), "the snapshot lost the tail's offset");
    }
    Offset tail = ((ReadResult) ask(entity, r -> new Session.Read(
        new ReadSpec(null, true, null, 1 << 20, 0, false), r), ReadReply.class)).next();
    testKit.stop(entity);

    // Recovered from the last snapshot and the events after it: the items up to the snapshot
    // come from the journal, the later ones from the rebuilt tail, each once.
    ActorRef<Session.Command> recovered = spawn(id, settings);
    ReadResult all = (ReadResult) ask(recovered, r -> new Session.Read(
        new ReadSpec(null, false, null, 1 << 20, 0, false), r), ReadReply.class);
    StringBuilder text = new StringBuilder();
    all.items().forEach(b -> text.append(new String(b, StandardCharsets.UTF_8)));
    assertEquals("m0;m1;m2;m3;m4;m5;m6;m7;m8;m9;m10;m11;", text.toString());
    assertTrue(all.upToDate());
    assertEquals(tail, all.next());
    ReadResult atTail = (ReadResult) ask(recovered, r -> new Session.Read(
        new ReadSpec(all.next(), false, null, 1 << 20, 0, false), r), ReadReply.class);
    assertEquals(0, atTail.items().size());
    assertInstanceOf(Appended.class, ask(recovered,
        r -> new Session.Append(append("m12;", null), r), AppendReply.class));
    ReadResult next = (ReadResult) ask(recovered, r -> new Session.Read(
        new ReadSpec(tail, false, null, 1 << 20, 0, false), r), ReadReply.class);
    assertEquals(List.of("m12;"), next.items().stream()
        .map(b -> new String(b, StandardCharsets.UTF_8)).toList());
  }

  @Test
  void theStartsWarmUpReadsSampleEventsBackThroughTheSerializerAndFoldsThem() {
    StreamState warmed = JournalWarmup.warmEventPath(testKit.system());
    assertTrue(warmed.active());
    assertEquals("application/json", warmed.contentType());
    assertEquals(new Offset(2, 4), warmed.tail());
    assertEquals(1, warmed.recent().size());
  }

  @Test
  void aLongCatchUpOfLargeEventsIsPagedByTheByteBudgetWithNoGapOrDuplicate() {
    String id = "pages-" + ids.incrementAndGet();
    SessionSettings small = settings(100, 2);
    ActorRef<Session.Command> entity = created(id, small);
    // Small events first, then large ones: the tail's large average makes the journal reads
    // of the small ones stop at the event bound before the byte budget (a page ends between
    // events), the large ones at the byte budget.
    String pad = "x".repeat(10 * 1024);
    for (int i = 0; i < 100; i++) {
      String text = i + ":" + (i < 60 ? "s" : pad);
      assertInstanceOf(Appended.class, ask(entity,
          r -> new Session.Append(append(text, null), r), AppendReply.class));
    }
    List<Integer> seen = new java.util.ArrayList<>();
    Offset from = null;
    int pages = 0;
    while (true) {
      Offset after = from;
      ReadResult page = (ReadResult) ask(entity, r -> new Session.Read(
          new ReadSpec(after, false, null, 25 * 1024, 0, false), r), ReadReply.class);
      pages++;
      assertTrue(page.items().stream().mapToInt(b -> b.length).sum() <= 25 * 1024 + 16,
          "a page stays within the byte budget");
      for (byte[] item : page.items()) {
        String text = new String(item, StandardCharsets.UTF_8);
        seen.add(Integer.parseInt(text.substring(0, text.indexOf(':'))));
      }
      assertTrue(from == null || page.next().isAfter(from), "every page moves on");
      from = page.next();
      if (page.upToDate()) {
        break;
      }
      assertTrue(pages < 200, "the catch-up ends");
    }
    assertEquals(java.util.stream.IntStream.range(0, 100).boxed().toList(), seen);
  }

  @Test
  void eventSourcedBehaviorTestKitRestartKeepsMetadataProducersAndTail() {
    EventSourcedBehaviorTestKit<Session.Command, SessionEvent, StreamState> kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), SessionEntity.create(
            "kit-" + ids.incrementAndGet(), SessionSetup.forTest(settings(100, 1024),
            SessionLiveSettings.defaults(),
            new JournalReader(testKit.system(), "pekko.persistence.testkit.query"))));
    var created = kit.<CreateReply>runCommand(r -> new Session.Create(plain("text/plain"), r));
    assertInstanceOf(Created.class, created.reply());
    kit.<AppendReply>runCommand(r -> new Session.Append(append("hello",
        new ProducerTuple("p", 3, 0)), r));
    StreamState before = kit.getState();
    StreamState after = kit.restart().state();
    assertEquals(before.tail(), after.tail());
    assertEquals(new ProducerState(3, 0), after.producers().get("p"));
    assertEquals(1, after.recent().size());
    assertArrayEquals(bytes("hello"), after.recent().get(0).items().get(0));
    assertNull(after.fork());
  }
}
