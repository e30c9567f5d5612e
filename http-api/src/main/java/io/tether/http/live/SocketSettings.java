package io.tether.http.live;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.sessions.ws} block (documented in the http-api {@code reference.conf}) plus
 * the keys it shares with the session entity.
 *
 * @param outboundBuffer frames queued for one client before it counts as slow
 * @param idleTimeout a connection whose client sent no frame for this long is closed
 * @param replayBytes the payload budget of one catch-up replay step
 * @param maxPendingBytes payload of live pushes kept while catching up (older ones are dropped
 *     and re-read; a throttled connection keeps none)
 * @param heartbeat how often a connection re-registers with its session (presence heartbeat)
 * @param askTimeout how long a publish or control waits for the session
 * @param resubscribeMin the first interval at which an unanswered subscription is sent again
 * @param resubscribeMax the longest interval between such retries (each doubles the last)
 */
record SocketSettings(int outboundBuffer, Duration idleTimeout, int replayBytes,
    long maxPendingBytes, Duration heartbeat, Duration askTimeout, Duration resubscribeMin,
    Duration resubscribeMax) {

  /** Frames of the outbound queue that stay free for replies (see SessionConnection). */
  static final int RESERVED_FRAMES = 32;

  SocketSettings {
    // With no room left for events a connection would throttle and replay forever without
    // delivering anything (found by the stalled-subscriber test with a buffer of 16).
    if (outboundBuffer < 2 * RESERVED_FRAMES) {
      throw new IllegalArgumentException("tether.sessions.ws.outbound-buffer must be at least "
          + 2 * RESERVED_FRAMES + " (" + RESERVED_FRAMES + " frames are kept for replies), not "
          + outboundBuffer);
    }
  }

  /** Reads the settings from the root configuration. */
  static SocketSettings fromConfig(Config root) {
    Config ws = root.getConfig("tether.sessions.ws");
    return new SocketSettings(ws.getInt("outbound-buffer"), ws.getDuration("idle-timeout"),
        ws.getBytes("replay-bytes").intValue(), ws.getBytes("max-pending-bytes"),
        root.getDuration("tether.sessions.presence-timeout").dividedBy(3),
        root.getDuration("tether.http.ask-timeout"),
        ws.getDuration("resubscribe-backoff.min"), ws.getDuration("resubscribe-backoff.max"));
  }
}
