package io.tether.actors.session.live;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.sessions} block: live subscriptions, presence, agent loss and read cursors
 * of JSON sessions. Every key is documented in the actors module's {@code reference.conf}.
 *
 * @param presenceTimeout a subscriber not heard from for this long is detached (missed
 *     heartbeats); also how long a device listed as present after a restart may take to
 *     re-attach before it is recorded as left
 * @param sweepInterval how often the entity looks for silent subscribers
 * @param lossGrace how long a run's producer may stay detached before the run ends as lost
 * @param cursorFlushInterval how long acknowledged read cursors are coalesced before one write
 */
public record SessionLiveSettings(Duration presenceTimeout, Duration sweepInterval,
    Duration lossGrace, Duration cursorFlushInterval) {

  /** Reads {@code tether.sessions} from the given root configuration. */
  public static SessionLiveSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.sessions");
    return new SessionLiveSettings(c.getDuration("presence-timeout"),
        c.getDuration("presence-sweep-interval"), c.getDuration("agent-loss-grace"),
        c.getDuration("cursor-flush-interval"));
  }

  /** Defaults for unit tests of a single entity. */
  public static SessionLiveSettings defaults() {
    return new SessionLiveSettings(Duration.ofSeconds(30), Duration.ofSeconds(5),
        Duration.ofSeconds(30), Duration.ofSeconds(1));
  }
}
