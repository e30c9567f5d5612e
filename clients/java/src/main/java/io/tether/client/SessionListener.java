package io.tether.client;

import java.util.Map;

/**
 * Receives what a {@link TetherSession} delivers. Every method runs on the session's delivery
 * sequence: one call at a time, in the order the server sent the frames, never on the socket's
 * thread, so a listener may block briefly or call the session (even wait for a publish) without
 * stalling the connection. While a listener is slow, the session stops reading the socket after
 * {@code maxQueuedFrames} (back-pressure), so it never buffers without bound.
 */
public interface SessionListener {

  /** One event, in offset order, never twice, none missing (across reconnects too). */
  default void onEvent(SessionEvent event) {}

  /** The replay after a (re)connect is done: everything up to {@code offset} was delivered. */
  default void onUpToDate(String offset) {}

  /** The connection changed state. */
  default void onStateChange(ConnectionState state) {}

  /**
   * The devices present, after each change (a snapshot from {@code GET /v1/sessions/{id}} at
   * every catch-up, then kept up to date from {@code presence.*} events): device to kind.
   */
  default void onPresence(Map<String, String> present) {}

  /**
   * Something went wrong that no request future reports: an error frame without an id
   * ({@code token-expired}, {@code idle-timeout}, {@code not-found}, ...), a failed connection
   * attempt, or the reason the session closed for good.
   */
  default void onError(TetherException error) {}
}
