package io.tether.actors.session;

import io.tether.persistence.TetherSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a session entity pushes to its live subscribers (connection actors, on any node), right
 * after the journal write that made the items durable. Every push of items names the offset just
 * before its first item, so a subscriber that sees a gap (a push it missed while the entity moved
 * or while it was catching up) knows to read the range from the journal instead of skipping it.
 */
public sealed interface SessionPush extends TetherSerializable {

  /**
   * The entity registered (or refreshed) the subscriber; watch {@code session} to learn when it
   * stops (passivation, hand-off, node loss) and subscribe again through sharding.
   *
   * @param session the entity's actor
   * @param tail the offset after the stream's last item at registration
   */
  record Subscribed(ActorRef<Session.Command> session, Offset tail) implements SessionPush {}

  /**
   * Items just persisted.
   *
   * @param prev the offset just before {@code offsets.get(0)}: nothing lies between
   * @param offsets the offset of each item
   * @param items the items, exactly as appended
   * @param closed whether the stream is closed after them
   */
  record Items(Offset prev, List<Offset> offsets, List<byte[]> items, boolean closed)
      implements SessionPush {}

  /**
   * The answer to {@link Session.Replay}: the items after {@code from}, in order.
   *
   * @param from the offset the replay started after
   * @param offsets the offset of each item
   * @param items the items
   * @param upToDate whether the last item is the tail as of the replay (false: replay again from
   *     the last offset; a journal read always says false, the next replay decides)
   * @param closed whether the stream is closed and fully replayed
   * @param tail the tail when the replay was served
   * @param next where the replay reached, the start of the next one: the last item's offset, or
   *     past it when the rest of the range read held no item (a journal read covers a bounded
   *     range of events, which may hold none)
   */
  record Replayed(Offset from, List<Offset> offsets, List<byte[]> items, boolean upToDate,
      boolean closed, Offset tail, Offset next) implements SessionPush {}

  /**
   * The answer to {@link Session.Rewind}.
   *
   * @param after the offset the client resumes after
   * @param from where the replay starts: {@code after}, or earlier when a message was open there
   */
  record Rewound(Offset after, Offset from) implements SessionPush {}

  /**
   * The subscription ended (the stream does not exist, was deleted or expired).
   *
   * @param reason {@code not-found} or {@code gone}
   */
  record Ended(String reason) implements SessionPush {}
}
