package io.tether.actors.session.stream;

import io.tether.actors.session.Session;
import io.tether.actors.session.live.SessionLiveSettings;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Everything a stream entity is built from besides its id: settings, the journal reader and
 * purger, and how it reaches other stream entities. Built once per node ({@link #fromSystem});
 * unit tests of one entity build their own ({@link #forTest}).
 */
public record SessionSetup(SessionSettings settings, SessionLiveSettings live,
    SessionResilience resilience, JournalReader reader, StreamPurger purger, Peers peers) {

  /** What a stream entity asks of other stream entities, through sharding. */
  public interface Peers {
    /** Releases {@code forkId}'s reference on {@code sourceId}. */
    void releaseFork(String sourceId, String forkId);

    /** Re-checks {@code streamId}'s expiry after {@code delay}, waking it if passivated. */
    void checkExpiryAfter(String streamId, Duration delay);

    /** Peers that do nothing: unit tests of a single entity. */
    static Peers none() {
      return new Peers() {
        @Override
        public void releaseFork(String sourceId, String forkId) {}

        @Override
        public void checkExpiryAfter(String streamId, Duration delay) {}
      };
    }
  }

  /** The setup of a node, from its configuration. */
  public static SessionSetup fromSystem(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    SessionSettings settings = SessionSettings.fromConfig(system.settings().config());
    Peers peers = new Peers() {
      @Override
      public void releaseFork(String sourceId, String forkId) {
        sharding.entityRefFor(Session.ENTITY_TYPE_KEY, sourceId)
            .tell(new Session.ReleaseFork(forkId));
      }

      @Override
      public void checkExpiryAfter(String streamId, Duration delay) {
        system.scheduler().scheduleOnce(delay,
            () -> sharding.entityRefFor(Session.ENTITY_TYPE_KEY, streamId)
                .tell(new Session.ExpiryTick()),
            system.executionContext());
      }
    };
    return new SessionSetup(settings, SessionLiveSettings.fromConfig(system.settings().config()),
        SessionResilience.fromConfig(system.settings().config()),
        new JournalReader(system, settings.readJournalPluginId()),
        StreamPurger.forSystem(system, settings), peers);
  }

  /** One entity in a unit test: default resilience, no purging, no peers. */
  public static SessionSetup forTest(SessionSettings settings, SessionLiveSettings live,
      JournalReader reader) {
    return new SessionSetup(settings, live, SessionResilience.defaults(), reader,
        StreamPurger.none(), Peers.none());
  }

  /** The same setup with {@code resilience}. */
  public SessionSetup withResilience(SessionResilience resilience) {
    return new SessionSetup(settings, live, resilience, reader, purger, peers);
  }

  /** The same setup with {@code purger} and {@code peers}. */
  public SessionSetup withPeers(StreamPurger purger, Peers peers) {
    return new SessionSetup(settings, live, resilience, reader, purger, peers);
  }
}
