package io.tether.actors.session;

import io.tether.persistence.TetherSerializable;
import java.util.List;
import java.util.Map;

/**
 * Everything a stream entity persists. Bound to {@code jackson-cbor} (items are raw bytes: CBOR
 * keeps them binary instead of base64 text). Until this split the events were nested in
 * {@link Session}; journals written then name them {@code Session$<Event>}, and
 * {@link SessionEventMigration} reads those names as these classes.
 */
public sealed interface SessionEvent extends TetherSerializable {

  /** A new incarnation of the stream began. */
  record StreamCreated(String contentType, Long ttlSeconds, String expiresAt,
      Long expiresAtMillis, ForkOrigin fork, long base) implements SessionEvent {}

  /** Items were appended; producer and {@code Stream-Seq} changes travel in the same event. */
  record ItemsAppended(List<byte[]> items, Map<String, ProducerState> producers,
      String streamSeq) implements SessionEvent {}

  /** The stream was closed, possibly by an idempotent producer. */
  record StreamClosed(ProducerTuple closedBy, Map<String, ProducerState> producers)
      implements SessionEvent {}

  /** A fork started reading this stream. */
  record ForkAcquired(String forkId) implements SessionEvent {}

  /** A fork stopped reading this stream. */
  record ForkReleased(String forkId) implements SessionEvent {}

  /** The stream was deleted or expired; soft keeps the data for forks. */
  record StreamDeleted(boolean soft, String reason) implements SessionEvent {}

  /**
   * The last access to a stream with a sliding TTL, recorded when its entity stops (null once
   * a later incarnation has been accessed), so passivation does not restart the TTL window.
   */
  record AccessRecorded(Long lastAccessMillis) implements SessionEvent {}

  /** Read cursors moved (coalesced over {@code tether.sessions.cursor-flush-interval}). */
  record CursorsMoved(Map<String, Offset> cursors) implements SessionEvent {}
}
