package io.tether.client;

import java.util.HashSet;
import java.util.Set;

/**
 * Where a {@link TetherSession} resumes after each (re)connect, and which delivered events a
 * replay must skip. Not thread-safe: the session uses it under its lock.
 *
 * <p>With raw deltas an event is new when its offset is after the last one delivered, and a
 * reconnect resumes after that offset. A {@code message}-granularity replay is repeated from its
 * start after a drop before its first catch-up (servers before the issue 14 changes cannot
 * resume a rolled-up replay from inside a message) and skips what it delivered by identity
 * (offset and type: a rolled-up message and the raw event at its offset differ in type). After
 * the first catch-up every reconnect resumes raw after the last offset.
 */
final class ResumePoint {
  private String initial;
  private final boolean rolledUp;
  private String last;
  private boolean caughtUpOnce;
  private Set<String> delivered;

  /**
   * @param after where the session starts: {@link Offsets#BEGINNING}, {@link Offsets#NOW} (to
   *     be resolved to the tail, see {@link #needsTail()}) or an offset
   * @param rolledUp whether the history is asked for at {@code message} granularity
   */
  ResumePoint(String after, boolean rolledUp) {
    this.initial = after.equals(Offsets.NOW) ? null : after;
    this.rolledUp = rolledUp;
    this.delivered = rolledUp ? new HashSet<>() : null;
  }

  /** Whether the starting point is "now" and its offset is not known yet. */
  boolean needsTail() {
    return initial == null;
  }

  /** "Now" is this tail, read once, so that a drop before the first catch-up leaves no gap. */
  void resolveTail(String tail) {
    initial = tail;
  }

  /** The resume frame for the next connection. */
  Frames.Resume resume(String device, String kind) {
    if (rolledUp && !caughtUpOnce) {
      return new Frames.Resume(initial, "message", device, kind);
    }
    return new Frames.Resume(last != null ? last : initial, "delta", device, kind);
  }

  /** Whether an event is new (and then it counts as delivered). */
  boolean accept(String offset, String type) {
    if (delivered != null && !caughtUpOnce) {
      if (!delivered.add(offset + "|" + type)) {
        return false;
      }
    } else if (last != null && !SessionEvent.isAfter(offset, last)) {
      return false;
    }
    advance(offset);
    return true;
  }

  /** The replay caught up to {@code offset}; returns the offset delivery now stands at. */
  String caughtUp(String offset) {
    advance(offset);
    caughtUpOnce = true;
    delivered = null;
    return last;
  }

  /** The offset of the last event delivered or caught up to, or null. */
  String last() {
    return last;
  }

  private void advance(String offset) {
    if (offset != null && (last == null || SessionEvent.isAfter(offset, last))) {
      last = offset;
    }
  }
}
