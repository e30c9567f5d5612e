package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionPush;
import io.tether.http.auth.Principal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.testkit.javadsl.TestEntityRef;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket connection whose subscription is lost (sent to a node that died and is not yet
 * removed from the cluster, so sharding still routes there) asks again, backing off, until the
 * session answers, and then asks again for the replay that was lost with it. Before, it waited
 * for the next presence heartbeat (10 s), and the failover benchmark's resumed subscriber got its
 * first event 10.4 s after the kill where one on a survivor got it after 6.2 s.
 *
 * <p>The session is a probe that answers only when told to, which is how a lost message looks
 * from the connection. Only resume and replay are exercised, so the connection gets no
 * {@code SessionStreams} or quotas (publishing would need them).
 */
class SessionConnectionResubscribeTest {
  private static final ActorTestKit testKit = ActorTestKit.create("SessionConnectionResubscribe",
      ConfigFactory.parseString("""
          tether.sessions.ws.resubscribe-backoff { min = 100ms, max = 400ms }
          """).withFallback(ConfigFactory.parseResources("tether-http.conf"))
          .withFallback(ConfigFactory.load()).resolve());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aLostSubscriptionIsSentAgainUntilAnsweredAndTheLostReplayWithIt() {
    SocketSettings settings = SocketSettings.fromConfig(testKit.system().settings().config());
    TestProbe<Session.Command> entity = testKit.createTestProbe();
    List<String> frames = new CopyOnWriteArrayList<>();
    BoundedSourceQueue<Message> out = Source.<Message>queue(settings.outboundBuffer())
        .to(Sink.foreach(m -> frames.add(m.asTextMessage().getStrictText())))
        .run(Materializer.matFromSystem(testKit.system()));
    ActorRef<SessionConnection.Command> connection = testKit.spawn(SessionConnection.create("s1",
        Principal.ANONYMOUS_WITH_AUTH_OFF, settings, null,
        TestEntityRef.of(Session.ENTITY_TYPE_KEY, "s1", entity.getRef()), out, null));
    TestProbe<Done> acks = testKit.createTestProbe();
    connection.tell(new SessionConnection.Inbound(List.of(new SessionConnection.InFrame.Text(
        "{\"type\":\"resume\",\"after\":\"-1\",\"device\":\"phone\"}")), acks.getRef()));

    // The subscription and the replay go out, and are lost: nothing answers them.
    Session.Subscribe first = entity.expectMessageClass(Session.Subscribe.class);
    entity.expectMessageClass(Session.Replay.class);
    // Asked again after 100 ms, 200 ms, then every 400 ms (the maximum): three more within a
    // second, where the heartbeat would have sent the next one after 10 s.
    long began = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      Session.Subscribe again = entity.expectMessageClass(Session.Subscribe.class,
          Duration.ofSeconds(2));
      assertEquals(first.subscriber(), again.subscriber());
    }
    long retried = (System.nanoTime() - began) / 1_000_000;
    assertTrue(retried < 1_500, "three retries took " + retried + " ms");

    // The session is back and answers: no more retries; the replay lost with the first
    // subscription is asked for again once its answer has not followed within the maximum.
    TestProbe<Session.Command> moved = testKit.createTestProbe();
    first.subscriber().tell(new SessionPush.Subscribed(moved.getRef(), new Offset(2, 1)));
    Session.Replay replay = entity.expectMessageClass(Session.Replay.class, Duration.ofSeconds(2));
    assertEquals(Offset.ZERO, replay.from());
    entity.expectNoMessage(Duration.ofMillis(900));

    replay.replyTo().tell(new SessionPush.Replayed(replay.from(), List.of(new Offset(2, 1)),
        List.of("{\"type\":\"note\",\"data\":{}}".getBytes(StandardCharsets.UTF_8)), true, false,
        new Offset(2, 1), new Offset(2, 1)));
    TestProbe<Void> client = testKit.createTestProbe();
    client.awaitAssert(Duration.ofSeconds(5), () -> {
      assertTrue(frames.stream().anyMatch(f -> f.contains("\"type\":\"event\"")
          && f.contains("0000000000000002_0000000000000001")), frames.toString());
      assertTrue(frames.stream().anyMatch(f -> f.contains("\"type\":\"up-to-date\"")),
          frames.toString());
      return null;
    });
  }
}
