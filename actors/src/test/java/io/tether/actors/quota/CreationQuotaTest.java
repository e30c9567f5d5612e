package io.tether.actors.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.tether.actors.quota.CreationQuota.Command;
import io.tether.actors.quota.CreationQuota.Event;
import io.tether.actors.quota.CreationQuota.Exhausted;
import io.tether.actors.quota.CreationQuota.Release;
import io.tether.actors.quota.CreationQuota.Reservation;
import io.tether.actors.quota.CreationQuota.Reserve;
import io.tether.actors.quota.CreationQuota.Reserved;
import io.tether.actors.quota.CreationQuota.State;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A token's creation count: it refuses past the limit, a repeated id is free, a released
 * creation frees its place, and the count survives a restart (recovery from the journal), with
 * every command, event and state serialized as in production.
 */
class CreationQuotaTest {
  private static final ActorTestKit testKit = ActorTestKit.create("CreationQuotaTest",
      EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
          .withFallback(ConfigFactory.load()));
  private final EventSourcedBehaviorTestKit<Command, Event, State> quota =
      EventSourcedBehaviorTestKit.create(testKit.system(), CreationQuota.create("token-1"));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void clear() {
    quota.clear();
  }

  private Reservation reserve(String id, int limit) {
    return quota.<Reservation>runCommand(replyTo -> new Reserve(id, limit, replyTo)).reply();
  }

  @Test
  void refusesTheCreationPastTheLimitAndKeepsCountingAfterARestart() {
    assertEquals(new Reserved(true), reserve("a", 2));
    assertEquals(new Reserved(true), reserve("b", 2));
    assertEquals(new Exhausted(2), reserve("c", 2));
    quota.restart();
    assertEquals(new Exhausted(2), reserve("c", 2), "the count survives recovery");
    assertEquals(Set.of("a", "b"), quota.getState().sessions());
  }

  @Test
  void aRepeatedIdIsNotCountedTwiceAndAReleaseFreesItsPlace() {
    assertEquals(new Reserved(true), reserve("a", 1));
    assertEquals(new Reserved(false), reserve("a", 1), "a retried create of the same id");
    assertEquals(new Exhausted(1), reserve("b", 1));
    quota.<Done>runCommand(replyTo -> new Release("a", replyTo));
    quota.<Done>runCommand(replyTo -> new Release("never-reserved", replyTo));
    assertEquals(new Reserved(true), reserve("b", 1));
    quota.restart();
    assertEquals(Set.of("b"), quota.getState().sessions());
  }
}
