package io.tether.actors.session.stream;

import io.tether.actors.session.Session;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.StreamState;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * When a stream expires (sliding {@code Stream-TTL}, absolute {@code Stream-Expires-At}) and the
 * timer that checks it while the entity is alive. The sliding window's last access lives here,
 * in memory: a graceful stop records it ({@code AccessRecorded}) and the first access of the
 * next incarnation forgets the record (see the package documentation).
 */
final class StreamExpiry {
  private static final String TIMER = "expiry";

  private final ActorRef<Session.Command> self;
  private final TimerScheduler<Session.Command> timers;
  private final Duration checkInterval;
  private long lastAccessMillis = System.currentTimeMillis();
  private boolean forgettingAccess;

  StreamExpiry(ActorRef<Session.Command> self, TimerScheduler<Session.Command> timers,
      Duration checkInterval) {
    this.self = self;
    this.timers = timers;
    this.checkInterval = checkInterval;
  }

  /** After recovery: the recorded access, if any, starts the window; then arm the timer. */
  void recovered(StreamState state) {
    lastAccessMillis = state.recordedAccess() != null
        ? state.recordedAccess() : System.currentTimeMillis();
    arm(state);
  }

  /** The last access (epoch millis), recorded at a graceful stop. */
  long lastAccessMillis() {
    return lastAccessMillis;
  }

  /** Whether the active stream is past its deadline. */
  boolean expired(StreamState state) {
    if (state.lifecycle() != StreamState.Lifecycle.ACTIVE) {
      return false;
    }
    long deadline = deadline(state);
    return deadline != Long.MAX_VALUE && System.currentTimeMillis() >= deadline;
  }

  /** The stream's deadline in epoch millis, or {@code Long.MAX_VALUE} when it never expires. */
  long deadline(StreamState state) {
    long deadline = Long.MAX_VALUE;
    if (state.expiresAtMillis() != null) {
      deadline = state.expiresAtMillis();
    }
    if (state.ttlSeconds() != null) {
      deadline = Math.min(deadline, lastAccessMillis + state.ttlSeconds() * 1000);
    }
    return deadline;
  }

  /** (Re-)arms the check at the deadline (at most the check interval away), or cancels it. */
  void arm(StreamState state) {
    long deadline = state.lifecycle() == StreamState.Lifecycle.ACTIVE
        ? deadline(state) : Long.MAX_VALUE;
    if (deadline == Long.MAX_VALUE) {
      timers.cancel(TIMER);
      return;
    }
    long delay = Math.max(10, deadline - System.currentTimeMillis() + 5);
    delay = Math.min(delay, checkInterval.toMillis());
    timers.startSingleTimer(TIMER, new Session.ExpiryTick(), Duration.ofMillis(delay));
  }

  /** Stops checking (the stream was deleted). */
  void cancel() {
    timers.cancel(TIMER);
  }

  /** An access: restarts the sliding window and forgets an outdated recorded access. */
  void touch(StreamState state) {
    lastAccessMillis = System.currentTimeMillis();
    if (state.recordedAccess() != null && !forgettingAccess) {
      forgettingAccess = true;
      self.tell(new Session.ForgetRecordedAccess());
    }
  }

  /** An access, then the timer re-armed for the new deadline. */
  void touchAndArm(StreamState state) {
    touch(state);
    arm(state);
  }

  /** The recorded access was forgotten (or found already gone). */
  void forgotten() {
    forgettingAccess = false;
  }

  /** The event that ends an expired stream: soft while forks still read it. */
  static SessionEvent.StreamDeleted expiryEvent(StreamState state) {
    return new SessionEvent.StreamDeleted(state.forkRefs() > 0, "expired");
  }
}
