package io.tether.actors.session.stream;

import com.typesafe.config.Config;
import java.time.Duration;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

/**
 * What a session entity does when its journal fails ({@code tether.session.persist-failure-backoff}
 * in the actors module's {@code reference.conf}): a failed or timed-out write (or a failed
 * recovery) restarts the entity after an exponential back-off, so a Cassandra outage costs a few
 * recovery attempts a minute per session instead of a tight loop.
 *
 * @param minBackoff the first restart delay
 * @param maxBackoff the longest restart delay
 * @param randomFactor jitter added to each delay (0.2 = up to 20% more)
 */
public record SessionResilience(Duration minBackoff, Duration maxBackoff, double randomFactor) {

  /** Reads {@code tether.session.persist-failure-backoff} from the root configuration. */
  public static SessionResilience fromConfig(Config root) {
    Config c = root.getConfig("tether.session.persist-failure-backoff");
    return new SessionResilience(c.getDuration("min"), c.getDuration("max"),
        c.getDouble("random-factor"));
  }

  /** The defaults of {@code reference.conf}, for tests that build entities without a config. */
  public static SessionResilience defaults() {
    return new SessionResilience(Duration.ofSeconds(1), Duration.ofSeconds(10), 0.2);
  }

  /**
   * The supervision strategy handed to the event-sourced behavior: one immutable instance per
   * setting, shared by every entity (built per entity it cost each idle session ~100 bytes).
   */
  public BackoffSupervisorStrategy strategy() {
    return STRATEGIES.computeIfAbsent(this,
        r -> SupervisorStrategy.restartWithBackoff(r.minBackoff, r.maxBackoff, r.randomFactor));
  }

  private static final java.util.concurrent.ConcurrentHashMap<SessionResilience,
      BackoffSupervisorStrategy> STRATEGIES = new java.util.concurrent.ConcurrentHashMap<>();
}
