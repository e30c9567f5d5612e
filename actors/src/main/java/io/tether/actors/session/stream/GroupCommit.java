package io.tether.actors.session.stream;

import io.tether.actors.metrics.TetherMetrics;
import io.tether.actors.session.MediaTypes;
import io.tether.actors.session.Offset;
import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import io.tether.actors.session.Session.AppendFailure;
import io.tether.actors.session.Session.AppendRejected;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.ControlAccepted;
import io.tether.actors.session.Session.ControlRejected;
import io.tether.actors.session.Session.ControlReply;
import io.tether.actors.session.SessionEnvelope;
import io.tether.actors.session.SessionLedger;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.live.LiveSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The group commit of one stream entity: appends are validated against the state the stream
 * will have once everything already accepted is persisted (producers, {@code Stream-Seq},
 * closure, and for JSON sessions the ledger with its fences), then buffered; a self-sent
 * {@code Flush} turns the buffer into one journal write ({@link #take}). Appends that arrive
 * while that write is in flight wait in Pekko's stash and form the next batch. The live layer
 * writes presence, controls and {@code run.end} through here too ({@link LiveSession.Writer}),
 * so they are ordered and fenced with every other append.
 *
 * <p>Owned by one entity and used only from its thread. It outlives a restart of the
 * event-sourced behavior after a journal failure, which is when {@link #abandon} refuses what
 * it held.
 */
final class GroupCommit implements LiveSession.Writer {

  private final ActorContext<Session.Command> ctx;
  private final SessionSettings settings;
  private final TetherMetrics metrics;
  private final GroupCommitBuffer buffer = new GroupCommitBuffer();
  private boolean flushScheduled;
  /** The ledger once the buffered appends are persisted; null while the buffer is empty. */
  private SessionLedger pendingLedger;
  /** The appends of the write in flight; refused if that write fails. */
  private List<GroupCommitBuffer.Entry> inFlight = List.of();

  GroupCommit(ActorContext<Session.Command> ctx, SessionSettings settings,
      TetherMetrics metrics) {
    this.ctx = ctx;
    this.settings = settings;
    this.metrics = metrics;
  }

  /** Whether nothing waits for the next write. */
  boolean isEmpty() {
    return buffer.isEmpty();
  }

  /** Whether the stream is closed once the buffered appends are persisted. */
  boolean closed(StreamState state) {
    return buffer.closed(state);
  }

  /** How many appends the write in flight holds. */
  int inFlight() {
    return inFlight.size();
  }

  /**
   * Validates an append to the active stream {@code state} against what is already buffered and
   * buffers it (acknowledged to {@code replyTo} once durable); returns the refusal instead when
   * it may not be written. Duplicates of an idempotent producer are buffered as acks only.
   */
  Optional<AppendRejected> accept(StreamState state, AppendSpec spec,
      ActorRef<AppendReply> replyTo) {
    ProducerTuple producer = spec.producer();
    if (buffer.closed(state)) {
      boolean sameCloser = producer != null && producer.equals(buffer.closedBy(state));
      boolean closeOnly = spec.items().isEmpty() && spec.close();
      if (sameCloser || closeOnly) {
        ProducerState ps = producer == null ? null : buffer.producer(state, producer.producerId());
        long ackSeq = ps == null ? producer == null ? 0 : producer.seq() : ps.lastSeq();
        enqueue(new GroupCommitBuffer.Entry(replyTo, List.of(), producer, true, true,
            producer == null ? 0 : producer.epoch(), ackSeq), null, null);
        return Optional.empty();
      }
      return refused(AppendRejected.closedAt(state.tail()));
    }
    if (!spec.items().isEmpty()
        && !MediaTypes.sameEssence(spec.contentType(), state.contentType())) {
      return refused(AppendRejected.at(AppendFailure.CONTENT_TYPE_MISMATCH, state.tail()));
    }
    ProducerState producerUpdate = null;
    if (producer != null) {
      var decision = IdempotentProducers.decide(buffer.producer(state, producer.producerId()),
          producer, state.tail(), spec.sequenceMayGap());
      if (decision instanceof IdempotentProducers.Refuse r) {
        return refused(r.rejection());
      }
      if (decision instanceof IdempotentProducers.Duplicate d) {
        enqueue(new GroupCommitBuffer.Entry(replyTo, List.of(), producer, true, false,
            d.epoch(), d.lastSeq()), null, null);
        return Optional.empty();
      }
      producerUpdate = ((IdempotentProducers.Accept) decision).next();
    }
    if (spec.streamSeq() != null) {
      String last = buffer.lastStreamSeq(state);
      if (last != null && spec.streamSeq().compareTo(last) <= 0) {
        return refused(AppendRejected.at(AppendFailure.STREAM_SEQ_REGRESSION, state.tail()));
      }
    }
    long size = 0;
    for (byte[] item : spec.items()) {
      size += item.length;
    }
    if (!buffer.isEmpty() && (buffer.bytes() + size > settings.maxBufferedBytes()
        || buffer.size() >= settings.maxBufferedAppends())) {
      return refused(AppendRejected.at(AppendFailure.OVERLOADED, state.tail()));
    }
    // Parsed once, for both the fence and the projection.
    List<Optional<SessionEnvelope>> envelopes = envelopes(state, spec.items());
    AppendFailure sessionRefusal = sessionRefusal(state, envelopes);
    if (sessionRefusal != null) {
      return refused(AppendRejected.at(sessionRefusal, state.tail()));
    }
    projectParsed(state, envelopes);
    enqueue(new GroupCommitBuffer.Entry(replyTo, spec.items(), producer, false, spec.close(),
        producer == null ? 0 : producer.epoch(), producer == null ? 0 : producer.seq()),
        producerUpdate, spec.streamSeq());
    return Optional.empty();
  }

  /**
   * Takes everything buffered for the write a {@code Flush} starts: its events (possibly none,
   * when only duplicates wait) and the entries to acknowledge once it is durable.
   */
  Taken take(StreamState state) {
    flushScheduled = false;
    List<GroupCommitBuffer.Entry> entries = buffer.entries();
    Chunking.Batch batch = Chunking.batch(state, buffer, entries, settings.chunkBytes());
    buffer.clear();
    pendingLedger = null;
    inFlight = batch.events().isEmpty() ? List.of() : entries;
    return new Taken(entries, batch);
  }

  /**
   * A group commit taken from the buffer.
   *
   * @param entries the appends it acknowledges, in arrival order
   * @param batch what it writes
   */
  record Taken(List<GroupCommitBuffer.Entry> entries, Chunking.Batch batch) {

    /** Acknowledges every entry against the state after the write. */
    void acknowledge(StreamState after) {
      for (int e = 0; e < entries.size(); e++) {
        Offset last = batch.lastOffsets()[e];
        GroupCommitBuffer.Entry entry = entries.get(e);
        Offset next = last != null && !entry.close() ? last : after.tail();
        entry.replyTo().tell(new Appended(next, entry.close() || (after.closed() && last == null),
            entry.duplicate(), entry.producer() == null ? null : entry.ackEpoch(),
            entry.producer() == null ? null : entry.ackSeq()));
      }
    }
  }

  /** The write in flight completed. */
  void written() {
    inFlight = List.of();
  }

  /**
   * The behavior failed (journal failure) or stopped: the appends whose write did not complete,
   * and those still buffered, are refused as journal-unavailable (503 with Retry-After) so their
   * producers retry now instead of waiting for their ask to time out. None was acknowledged.
   */
  void abandon() {
    List<GroupCommitBuffer.Entry> abandoned = new ArrayList<>(inFlight);
    abandoned.addAll(buffer.entries());
    inFlight = List.of();
    buffer.clear();
    pendingLedger = null;
    flushScheduled = false;
    for (GroupCommitBuffer.Entry entry : abandoned) {
      metrics.appendRejected("journal-failure");
      entry.replyTo().tell(AppendRejected.of(AppendFailure.JOURNAL_UNAVAILABLE));
    }
  }

  /** An append refusal, counted by reason in {@code tether_appends_rejected_total}. */
  Optional<AppendRejected> refused(AppendRejected rejection) {
    metrics.appendRejected(rejection.failure().name().toLowerCase(Locale.ROOT));
    return Optional.of(rejection);
  }

  private void enqueue(GroupCommitBuffer.Entry entry, ProducerState producerUpdate,
      String streamSeq) {
    buffer.add(entry, producerUpdate, streamSeq);
    if (!flushScheduled) {
      flushScheduled = true;
      ctx.getSelf().tell(new Session.Flush());
    }
  }

  // --- the ledger a JSON session will have, and the live layer's writes ------------------------

  @Override
  public SessionLedger projected(StreamState state) {
    return pendingLedger != null ? pendingLedger : state.ledger();
  }

  @Override
  public void appendServer(StreamState state, List<byte[]> items) {
    if (!state.active() || buffer.closed(state) || !MediaTypes.isJson(state.contentType())) {
      return;
    }
    project(state, items);
    enqueue(new GroupCommitBuffer.Entry(ctx.getSystem().<AppendReply>ignoreRef(), items, null,
        false, false, 0, 0), null, null);
  }

  @Override
  public void appendControl(StreamState state, byte[] control, List<byte[]> implied,
      ActorRef<ControlReply> replyTo) {
    boolean cancel = SessionEnvelope.of(control).map(e -> e.type().equals("control.cancel"))
        .orElse(false);
    ActorRef<AppendReply> ack = ctx.spawnAnonymous(Behaviors.<AppendReply>receiveMessage(r -> {
      if (cancel && r instanceof Appended) {
        metrics.cancelled();
      }
      replyTo.tell(r instanceof Appended appended ? new ControlAccepted(appended.next())
          : new ControlRejected("overloaded", "the session could not persist the control"));
      return Behaviors.stopped();
    }));
    project(state, List.of(control));
    enqueue(new GroupCommitBuffer.Entry(ack, List.of(control), null, false, false, 0, 0),
        null, null);
    if (!implied.isEmpty()) {
      appendServer(state, implied);
    }
  }

  /** Folds accepted, not yet persisted items into the projected ledger. */
  private void project(StreamState state, List<byte[]> items) {
    if (!MediaTypes.isJson(state.contentType())) {
      return;
    }
    List<Optional<SessionEnvelope>> envelopes = new ArrayList<>(items.size());
    for (byte[] item : items) {
      // The fold ignores deltas: they need no parse here.
      envelopes.add(SessionLedger.foldSkips(item) ? Optional.empty()
          : SessionEnvelope.forLedger(item));
    }
    projectParsed(state, envelopes);
  }

  /** {@link #project} of items already parsed (an empty list for a stream that is not JSON). */
  private void projectParsed(StreamState state, List<Optional<SessionEnvelope>> envelopes) {
    if (!MediaTypes.isJson(state.contentType())) {
      return;
    }
    SessionLedger ledger = projected(state);
    Offset unknown = new Offset(state.base() + state.seqNr() + 1, 0);
    for (Optional<SessionEnvelope> e : envelopes) {
      if (e.isPresent()) {
        ledger = ledger.fold(unknown, e.get());
      }
    }
    pendingLedger = ledger;
  }

  /** A client's items as the ledger reads them; empty when the stream is not a JSON session. */
  private static List<Optional<SessionEnvelope>> envelopes(StreamState state, List<byte[]> items) {
    if (!MediaTypes.isJson(state.contentType())) {
      return List.of();
    }
    List<Optional<SessionEnvelope>> envelopes = new ArrayList<>(items.size());
    for (byte[] item : items) {
      envelopes.add(SessionEnvelope.forLedger(item));
    }
    return envelopes;
  }

  /** Why a client's items may not enter this JSON session, or null when they may. */
  private AppendFailure sessionRefusal(StreamState state,
      List<Optional<SessionEnvelope>> envelopes) {
    SessionLedger ledger = projected(state);
    for (Optional<SessionEnvelope> e : envelopes) {
      if (e.isEmpty()) {
        continue;
      }
      if (e.get().serverOnly()) {
        return AppendFailure.RESERVED_TYPE;
      }
      if (ledger.refusal(e.get()) != null) {
        return AppendFailure.FENCED;
      }
    }
    return null;
  }
}
