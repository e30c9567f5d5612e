package io.tether.actors.session.stream;

import io.tether.actors.metrics.TetherMetrics;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.Session.ReadFailure;
import io.tether.actors.session.Session.ReadRejected;
import io.tether.actors.session.Session.ReadReply;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.SessionPush;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.TailBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * The read side of one stream entity: ranges served from the in-memory tail or, when older,
 * from the journal by sequence range (answered asynchronously, never blocking the entity), the
 * long-poll waiters answered right after the write that gives them data, and the replays that
 * WebSocket subscribers ask for. The journal is never polled.
 */
final class StreamReads {
  private static final long MIN_EVENTS_PER_READ = 16;
  private static final long MAX_EVENTS_PER_READ = 500;

  private record Waiter(ActorRef<ReadReply> replyTo, Offset from, int maxBytes) {}

  private final String streamId;
  private final String persistenceId;
  private final JournalReader reader;
  private final TetherMetrics metrics;
  private final TimerScheduler<Session.Command> timers;
  private final Logger log;
  /** Allocated on the first waiter (an idle entity has none). */
  private Map<Long, Waiter> waiters = Map.of();
  private long nextWaiterId;

  StreamReads(String streamId, String persistenceId, JournalReader reader, TetherMetrics metrics,
      TimerScheduler<Session.Command> timers, Logger log) {
    this.streamId = streamId;
    this.persistenceId = persistenceId;
    this.reader = reader;
    this.metrics = metrics;
    this.timers = timers;
    this.log = log;
  }

  /** How many long-poll readers wait. */
  int waiting() {
    return waiters.size();
  }

  /**
   * Serves a read of items after {@code from} up to {@code upper}: from the tail in memory and
   * answered now (the result is returned), or from the journal and answered later (null).
   */
  ReadResult read(StreamState state, Offset from, Offset upper, Offset bound, int maxBytes,
      ActorRef<ReadReply> replyTo) {
    if (state.recentCovers(from)) {
      return readRecent(state, from, upper, bound, maxBytes);
    }
    readJournal(state, from, upper, bound, maxBytes, replyTo);
    return null;
  }

  /** Registers a long-poll reader at the tail, answered as timed out after {@code waitMillis}. */
  void await(ActorRef<ReadReply> replyTo, Offset from, int maxBytes, long waitMillis) {
    long id = nextWaiterId++;
    if (waiters.isEmpty()) {
      waiters = new HashMap<>(4);
    }
    waiters.put(id, new Waiter(replyTo, from, maxBytes));
    timers.startSingleTimer(waiterKey(id), new Session.WaiterExpired(id),
        Duration.ofMillis(waitMillis));
  }

  /** A waiter's time is up: it gets an empty, timed-out result. */
  void expire(StreamState state, long waiterId) {
    Waiter waiter = waiters.isEmpty() ? null : waiters.remove(waiterId);
    if (waiter != null) {
      waiter.replyTo().tell(new ReadResult(List.of(), waiter.from(), true, state.closed(), true,
          state.info()));
    }
  }

  /** After a write: every waiter that now has data (or a closed stream) is answered. */
  void notifyWaiters(StreamState state) {
    if (waiters.isEmpty()) {
      return;
    }
    Iterator<Map.Entry<Long, Waiter>> it = waiters.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Waiter> entry = it.next();
      Waiter waiter = entry.getValue();
      if (!state.tail().isAfter(waiter.from()) && !state.closed()) {
        continue;
      }
      it.remove();
      timers.cancel(waiterKey(entry.getKey()));
      ReadResult now = read(state, waiter.from(), state.tail(), null, waiter.maxBytes(),
          waiter.replyTo());
      if (now != null) {
        waiter.replyTo().tell(now);
      }
    }
  }

  /** The stream is gone: every waiter is refused with {@code failure}. */
  void failWaiters(ReadFailure failure) {
    for (Map.Entry<Long, Waiter> entry : waiters.entrySet()) {
      timers.cancel(waiterKey(entry.getKey()));
      entry.getValue().replyTo().tell(new ReadRejected(failure));
    }
    waiters = Map.of();
  }

  /** The entity stops: waiters are answered as timed out, to re-ask wherever it lives next. */
  void releaseWaiters(StreamState state) {
    for (Map.Entry<Long, Waiter> entry : waiters.entrySet()) {
      timers.cancel(waiterKey(entry.getKey()));
      Waiter waiter = entry.getValue();
      waiter.replyTo().tell(new ReadResult(List.of(), waiter.from(), true, state.closed(), true,
          state.info()));
    }
    waiters = Map.of();
  }

  /** Items after {@code from} up to {@code upper}, at most {@code maxBytes}, from the tail. */
  static ReadResult readRecent(StreamState state, Offset from, Offset upper, Offset bound,
      int maxBytes) {
    List<byte[]> items = new ArrayList<>();
    long used = 0;
    Offset last = null;
    boolean truncated = false;
    outer:
    for (TailBatch batch : state.recent()) {
      if (batch.position() < from.position()) {
        continue;
      }
      for (int i = 0; i < batch.items().size(); i++) {
        Offset offset = new Offset(batch.position(), i + 1);
        if (!offset.isAfter(from)) {
          continue;
        }
        if (offset.isAfter(upper)) {
          break outer;
        }
        byte[] item = batch.items().get(i);
        if (used > 0 && used + item.length > maxBytes) {
          truncated = true;
          break outer;
        }
        items.add(item);
        used += item.length;
        last = offset;
      }
    }
    return result(state, items, truncated ? last : upper, bound, false);
  }

  /** A read result ending at {@code next}, up to date when that is the tail (or the bound). */
  static ReadResult result(StreamState state, List<byte[]> items, Offset next, Offset bound,
      boolean timedOut) {
    Offset end = bound != null && bound.isBefore(state.tail()) ? bound : state.tail();
    boolean upToDate = next.equals(end);
    boolean closed = bound == null && state.closed() && next.equals(state.tail());
    return new ReadResult(items, next, upToDate, closed, timedOut, state.info());
  }

  /** Serves a range older than the in-memory tail from the journal; replies asynchronously. */
  private void readJournal(StreamState state, Offset from, Offset upper, Offset bound,
      int maxBytes, ActorRef<ReadReply> replyTo) {
    readRange(state, from, upper, maxBytes, "read", (chunk, next) ->
        replyTo.tell(result(state, chunk.items(), next, bound, false)));
  }

  /**
   * Reads one bounded range of events after {@code from} (up to {@code upper}) back from the
   * journal and hands the chunk to {@code reply} with where the read reached: its last item when
   * the byte budget stopped it, else the end of the range. The query fetches whole events, up
   * to hundreds at a time, so the range is bounded by what the byte budget can use, or a page of
   * large events reads many times what it returns. A failure is logged and not answered: the
   * asker's own timeout asks again, never at once and in a loop against a failing journal.
   */
  private void readRange(StreamState state, Offset from, Offset upper, int maxBytes,
      String what, BiConsumer<JournalReader.Chunk, Offset> reply) {
    long fromSeq = Math.max(state.incarnationStart(), from.position() - state.base());
    long toSeq = upper.position() - state.base();
    long lastSeq = Math.min(toSeq, fromSeq + eventsFor(state, maxBytes) - 1);
    Offset rangeEnd = lastSeq < toSeq ? new Offset(state.base() + lastSeq + 1, 0) : upper;
    metrics.journalRead();
    reader.read(persistenceId, fromSeq, lastSeq, state.base(), from, rangeEnd, maxBytes)
        .whenComplete((chunk, error) -> {
          if (error != null) {
            log.warn("Journal {} of {} failed", what, streamId, error);
            return;
          }
          reply.accept(chunk, chunk.truncated()
              ? chunk.offsets().get(chunk.offsets().size() - 1) : rangeEnd);
        });
  }

  /** How many journal events one read of {@code maxBytes} asks for, from the tail's sizes. */
  private static long eventsFor(StreamState state, int maxBytes) {
    if (state.recent().isEmpty() || state.recentBytes() <= 0) {
      return MAX_EVENTS_PER_READ;
    }
    long perEvent = Math.max(1, state.recentBytes() / state.recent().size());
    return Math.max(MIN_EVENTS_PER_READ,
        Math.min(MAX_EVENTS_PER_READ, 2 * maxBytes / perEvent + 1));
  }

  /**
   * Replays items after {@code from} to a WebSocket subscriber: from the tail in memory (up to
   * date when it reaches the tail), or one journal page (the subscriber asks again from its
   * end).
   */
  void replay(StreamState state, Offset from, int maxBytes, ActorRef<SessionPush> replyTo) {
    Offset tail = state.tail();
    boolean closed = state.closed();
    if (!from.isBefore(tail) || state.recentCovers(from)) {
      List<Offset> offsets = new ArrayList<>();
      List<byte[]> items = new ArrayList<>();
      long used = 0;
      boolean truncated = false;
      outer:
      for (TailBatch batch : state.recent()) {
        for (int i = 0; i < batch.items().size(); i++) {
          Offset offset = new Offset(batch.position(), i + 1);
          if (!offset.isAfter(from)) {
            continue;
          }
          byte[] item = batch.items().get(i);
          if (used > 0 && used + item.length > maxBytes) {
            truncated = true;
            break outer;
          }
          offsets.add(offset);
          items.add(item);
          used += item.length;
        }
      }
      replyTo.tell(new SessionPush.Replayed(from, offsets, items, !truncated,
          closed && !truncated, tail, truncated ? offsets.get(offsets.size() - 1) : tail));
      return;
    }
    readRange(state, from, tail, maxBytes, "replay", (chunk, next) ->
        replyTo.tell(new SessionPush.Replayed(from, chunk.offsets(), chunk.items(), false,
            false, tail, next)));
  }

  private static String waiterKey(long id) {
    return "waiter-" + id;
  }
}
