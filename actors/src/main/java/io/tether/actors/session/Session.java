package io.tether.actors.session;

import io.tether.persistence.TetherSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;

/**
 * The protocol of a durable stream (the Durable Streams protocol's unit): the commands a stream
 * entity accepts and the replies it gives. One sharded, event-sourced entity per stream id,
 * persistence id {@code Session|<id>}; the entity ({@code session.stream.SessionEntity}) is the
 * stream's only writer, its events are {@link SessionEvent}, its state {@link StreamState}, and
 * its JSON-session layer (presence, controls, cursors) lives in {@code session.live}. Other
 * modules reach it through {@link SessionStreams}.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>An append is acknowledged only after the journal write holding its items completed.
 *   <li>Group commit: appends are buffered and the whole buffer is persisted as one batch (split
 *       into events of at most {@code tether.session.chunk-bytes}); appends arriving while a
 *       write is in flight form the next batch. Each producer is acked with its own offsets. A
 *       full buffer answers {@link AppendFailure#OVERLOADED}.
 *   <li>The idempotent-producer table and {@code Stream-Seq} change in the same event as the data.
 *   <li>Offsets come from the journal sequence number and the position inside the event (see
 *       {@link Offset}).
 *   <li>Reads are served from a bounded in-memory tail, older ranges from the journal by sequence
 *       range; live readers (long-poll, and SSE built on it) are waiters answered right after
 *       the write that gives them data. The journal is never polled.
 *   <li>Delete and expiry (TTL, Expires-At) persist a deletion; a hard deletion purges the
 *       incarnation's events and snapshots and releases the fork source, if any. A stream that
 *       forks still read is soft-deleted instead.
 * </ul>
 *
 * <p>The nested names are the wire manifests of these messages between nodes: renaming one
 * breaks a rolling upgrade (see {@code docs/contributing.md}).
 */
public final class Session {

  /** The sharding key of stream entities. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Session");

  private Session() {}

  /** The persistence id of a stream. */
  public static PersistenceId persistenceIdOf(String streamId) {
    return PersistenceId.of(ENTITY_TYPE_KEY.name(), streamId, "|");
  }

  // Commands

  /** Every message a stream entity accepts. */
  public sealed interface Command extends TetherSerializable {}

  /**
   * Messages the entity sends itself (timers, watches, the group-commit trigger). They are
   * public only because the entity lives in {@code session.stream} and the live layer in
   * {@code session.live}; nothing outside them sends one.
   */
  public sealed interface Internal extends Command {}

  /** Creates the stream, or confirms an existing one with the same configuration. */
  public record Create(CreateSpec spec, ActorRef<CreateReply> replyTo) implements Command {}

  /** Appends items and/or closes the stream. */
  public record Append(AppendSpec spec, ActorRef<AppendReply> replyTo) implements Command {}

  /** Reads items after an offset, optionally waiting for new ones. */
  public record Read(ReadSpec spec, ActorRef<ReadReply> replyTo) implements Command {}

  /** Returns the stream's metadata without touching its TTL. */
  public record Describe(ActorRef<Described> replyTo) implements Command {}

  /** Deletes the stream (soft-deletes it while forks still read it). */
  public record Delete(ActorRef<Deleted> replyTo) implements Command {}

  /** Registers a new fork reading this stream's data up to an offset. */
  public record AcquireFork(String forkId, Offset offset, String contentType,
      ActorRef<ForkReply> replyTo) implements Command {}

  /** A fork of this stream is gone. */
  public record ReleaseFork(String forkId) implements Command {}

  /**
   * Stops the entity once its buffered appends are durable; sharding's stop message for
   * passivation and shard hand-off. Live readers are answered as timed out so they re-ask
   * wherever the stream lives next.
   */
  public record Stop() implements Command {}

  /** Internal: persist the group-commit buffer. */
  public record Flush() implements Internal {}

  /** Internal: a long-poll waiter's time is up. */
  public record WaiterExpired(long waiterId) implements Internal {}

  /** Internal: re-check TTL and Expires-At. */
  public record ExpiryTick() implements Internal {}

  /** Internal: the access recorded at the last stop is outdated; forget it durably. */
  public record ForgetRecordedAccess() implements Internal {}

  // --- JSON sessions: live subscribers, control, presence, cursors (see SessionLedger)

  /**
   * Registers (or refreshes: it doubles as the heartbeat) a live subscriber speaking for
   * {@code device}; the entity answers {@link SessionPush.Subscribed} and pushes every batch
   * persisted from then on.
   */
  public record Subscribe(String device, String kind, ActorRef<SessionPush> subscriber)
      implements Command {}

  /** The subscriber's connection closed; detaches it (a disconnect never cancels anything). */
  public record Unsubscribe(ActorRef<SessionPush> subscriber) implements Command {}

  /** Cancels, steers or interrupts a run; persisted and answered with its offset. */
  public record Control(ControlSpec spec, ActorRef<ControlReply> replyTo) implements Command {}

  /** Moves {@code device}'s read cursor to {@code offset} (persisted coalesced). */
  public record AckCursor(String device, Offset offset) implements Command {}

  /**
   * Replays items after {@code from} to a subscriber, from the in-memory tail or the journal:
   * answered with {@link SessionPush.Replayed} (or {@link SessionPush.Ended}).
   */
  public record Replay(Offset from, int maxBytes, ActorRef<SessionPush> replyTo)
      implements Command {}

  /**
   * Where a replay at message granularity that resumes after {@code after} must start so that
   * the messages it delivers are whole: answered with {@link SessionPush.Rewound}.
   */
  public record Rewind(Offset after, ActorRef<SessionPush> replyTo) implements Command {}

  /** Returns the stream's metadata with its session ledger. */
  public record DescribeSession(ActorRef<SessionSummary> replyTo) implements Command {}

  /** Internal: a watched subscriber stopped. */
  public record SubscriberTerminated(ActorRef<SessionPush> subscriber) implements Internal {}

  /** Internal: look for subscribers that missed their heartbeats. */
  public record PresenceSweep() implements Internal {}

  /** Internal: end {@code run} as lost if its producer is still away. */
  public record LossCheck(String run) implements Internal {}

  /** Internal: persist the coalesced read cursors. */
  public record FlushCursors() implements Internal {}

  /**
   * A control request.
   *
   * @param kind {@code cancel}, {@code steer} or {@code interrupt}
   * @param id the requester's id for it (acknowledgements name it), or null
   * @param run the run, or null for a cancel by input message
   * @param message the input message to cancel (its run, or the run that would answer it)
   * @param text the steering text, or null
   * @param by who asks (the token's subject)
   * @param device the device asking, or null
   */
  public record ControlSpec(String kind, String id, String run, String message, String text,
      String by, String device) {}

  /** The answer to {@link Control}. */
  public sealed interface ControlReply extends TetherSerializable {}

  /** The control is durable at {@code offset} (for a cancel: the fence). */
  public record ControlAccepted(Offset offset) implements ControlReply {}

  /**
   * The control was refused.
   *
   * @param code {@code not-found}, {@code run-ended}, {@code not-running}, {@code invalid},
   *     {@code closed} or {@code overloaded}
   * @param detail what went wrong
   */
  public record ControlRejected(String code, String detail) implements ControlReply {}

  /** The answer to {@link DescribeSession}: metadata and ledger when found. */
  public record SessionSummary(Lookup lookup, StreamInfo info, SessionLedger ledger)
      implements TetherSerializable {}

  /**
   * What to create.
   *
   * @param contentType the content type; null only for a fork that inherits its source's
   * @param ttlSeconds the sliding TTL, or null
   * @param expiresAt the absolute expiry as given, or null
   * @param expiresAtMillis the absolute expiry in epoch millis, or null
   * @param closed whether to create the stream closed
   * @param items the initial items
   * @param fork the fork request, or null for a plain stream
   * @param forkOffset the fork point granted by the source, or null while unresolved
   * @param forkPrefix the items materialized past the fork point (sub-offset), or empty
   */
  public record CreateSpec(String contentType, Long ttlSeconds, String expiresAt,
      Long expiresAtMillis, boolean closed, List<byte[]> items, ForkRequest fork,
      Offset forkOffset, List<byte[]> forkPrefix) {

    /** The same request with the fork resolved against its source. */
    public CreateSpec resolved(String inheritedContentType, Long ttl, String expires,
        Long expiresMillis, Offset offset, List<byte[]> prefix) {
      return new CreateSpec(inheritedContentType, ttl, expires, expiresMillis, closed, items, fork,
          offset, prefix);
    }
  }

  /**
   * A fork request as the client sent it.
   *
   * @param sourceId the stream to fork
   * @param requestedOffset {@code Stream-Fork-Offset} as sent, or null for the source's tail
   * @param subOffset {@code Stream-Fork-Sub-Offset}, 0 when absent
   */
  public record ForkRequest(String sourceId, String requestedOffset, long subOffset) {}

  /**
   * What to append.
   *
   * @param contentType the request's content type, or null when the body is empty
   * @param items the items (one per message in JSON mode, the body otherwise)
   * @param producer the idempotent producer headers, or null
   * @param streamSeq the {@code Stream-Seq} header, or null
   * @param close whether to close the stream after this append
   * @param sequenceMayGap whether the producer's sequence only has to increase (a WebSocket
   *     publisher, whose refused publishes never reach the stream) instead of going up by one
   *     (the Durable Streams idempotent producer); either way a sequence at or below the last
   *     accepted one is a duplicate
   */
  public record AppendSpec(String contentType, List<byte[]> items, ProducerTuple producer,
      String streamSeq, boolean close, boolean sequenceMayGap) {

    /** An append whose producer, if any, follows the Durable Streams sequence rules. */
    public AppendSpec(String contentType, List<byte[]> items, ProducerTuple producer,
        String streamSeq, boolean close) {
      this(contentType, items, producer, streamSeq, close, false);
    }
  }

  /**
   * What to read.
   *
   * @param from read items strictly after this offset; null for the stream start
   * @param fromTail start at the current tail ({@code offset=now})
   * @param upTo stop at this offset (inclusive), or null for the tail; set for fork-source reads
   * @param maxBytes the payload budget of the response
   * @param waitMillis how long to wait for data when there is none (0: do not wait)
   * @param internal a read on behalf of a fork: ignores soft deletion and does not touch the TTL
   */
  public record ReadSpec(Offset from, boolean fromTail, Offset upTo, int maxBytes,
      long waitMillis, boolean internal) {}

  // ---------------------------------------------------------------------------------------------
  // Replies

  /** The answer to {@link Create}. */
  public sealed interface CreateReply extends TetherSerializable {}

  /** The stream was created. */
  public record Created(StreamInfo info) implements CreateReply {}

  /** The stream already existed with this configuration. */
  public record AlreadyExists(StreamInfo info) implements CreateReply {}

  /** A stream exists (or is soft-deleted) at this id with another configuration. */
  public record CreateConflict(String detail) implements CreateReply {}

  /** The fork must be granted by its source first; resend with the fork resolved. */
  public record ForkSourceNeeded() implements CreateReply {}

  /** The fork's source refused it (answered by {@link SessionStreams}, not by the entity). */
  public record ForkFailed(ForkFailure failure) implements CreateReply {}

  /** The answer to {@link Append}. */
  public sealed interface AppendReply extends TetherSerializable {}

  /**
   * The append is durable (or was already, for a duplicate).
   *
   * @param next the offset after this append's last item
   * @param closed whether the stream is closed now
   * @param duplicate whether nothing new was written (idempotent retry or repeated close)
   * @param producerEpoch the producer epoch acknowledged, or null
   * @param producerSeq the highest producer sequence accepted in that epoch, or null
   */
  public record Appended(Offset next, boolean closed, boolean duplicate, Long producerEpoch,
      Long producerSeq) implements AppendReply {}

  /**
   * The append was refused.
   *
   * @param failure why
   * @param tail the stream's tail when known
   * @param closed whether the stream is closed
   * @param producerEpoch the current epoch (stale epoch), or null
   * @param expectedSeq the expected producer sequence (gap), or null
   * @param receivedSeq the received producer sequence (gap), or null
   */
  public record AppendRejected(AppendFailure failure, Offset tail, boolean closed,
      Long producerEpoch, Long expectedSeq, Long receivedSeq) implements AppendReply {

    /** A refusal that says only why (the stream's tail is unknown or irrelevant). */
    public static AppendRejected of(AppendFailure failure) {
      return new AppendRejected(failure, null, false, null, null, null);
    }

    /** A refusal at the stream's current {@code tail}. */
    public static AppendRejected at(AppendFailure failure, Offset tail) {
      return new AppendRejected(failure, tail, false, null, null, null);
    }

    /** The stream is closed at {@code tail}. */
    public static AppendRejected closedAt(Offset tail) {
      return new AppendRejected(AppendFailure.CLOSED, tail, true, null, null, null);
    }

    /** A producer epoch problem ({@code failure}): the current epoch is {@code epoch}. */
    public static AppendRejected epoch(AppendFailure failure, Offset tail, long epoch) {
      return new AppendRejected(failure, tail, false, epoch, null, null);
    }

    /** The producer skipped from {@code expected} to {@code received}. */
    public static AppendRejected gap(Offset tail, long expected, long received) {
      return new AppendRejected(AppendFailure.SEQUENCE_GAP, tail, false, null, expected,
          received);
    }
  }

  /** Why an append was refused. */
  public enum AppendFailure {
    /** No stream at this id. */
    NOT_FOUND,
    /** The stream is soft-deleted. */
    GONE,
    /** The stream is closed. */
    CLOSED,
    /** The body's content type differs from the stream's. */
    CONTENT_TYPE_MISMATCH,
    /** {@code Stream-Seq} did not increase. */
    STREAM_SEQ_REGRESSION,
    /** The producer epoch is older than the current one. */
    STALE_EPOCH,
    /** The producer sequence skipped ahead. */
    SEQUENCE_GAP,
    /** A new producer epoch did not start at sequence 0. */
    INVALID_EPOCH_SEQ,
    /** The group-commit buffer is full: producers write faster than the journal takes it. */
    OVERLOADED,
    /** The journal write failed or the entity stopped: nothing of it was acknowledged. */
    JOURNAL_UNAVAILABLE,
    /** JSON session: output for a run that was cancelled or lost (after its fence). */
    FENCED,
    /** JSON session: a presence or control request event only the session itself writes. */
    RESERVED_TYPE
  }

  /** The answer to {@link Read}. */
  public sealed interface ReadReply extends TetherSerializable {}

  /**
   * Items read.
   *
   * @param items the items, in order
   * @param next where the next read starts
   * @param upToDate whether {@code next} is the tail (or the requested bound)
   * @param closed whether the stream is closed and {@code next} is its final offset
   * @param timedOut whether a long-poll ended without data
   * @param info the stream's metadata
   */
  public record ReadResult(List<byte[]> items, Offset next, boolean upToDate, boolean closed,
      boolean timedOut, StreamInfo info) implements ReadReply {}

  /** The requested range starts in data inherited from a fork source: read that first. */
  public record ReadFromSource(String sourceId, Offset forkOffset, StreamInfo info)
      implements ReadReply {}

  /** The read was refused. */
  public record ReadRejected(ReadFailure failure) implements ReadReply {}

  /** Why a read was refused. */
  public enum ReadFailure {
    /** No stream at this id. */
    NOT_FOUND,
    /** The stream is soft-deleted. */
    GONE,
    /** The offset is past the tail. */
    OFFSET_BEYOND_TAIL
  }

  /** Whether a stream exists at an id. */
  public enum Lookup {
    /** It exists. */
    FOUND,
    /** It does not. */
    NOT_FOUND,
    /** It is soft-deleted. */
    GONE
  }

  /** The answer to {@link Describe}: the metadata when found. */
  public record Described(Lookup lookup, StreamInfo info) implements TetherSerializable {}

  /** The answer to {@link Delete}: FOUND when this request deleted the stream. */
  public record Deleted(Lookup lookup) implements TetherSerializable {}

  /** The answer to {@link AcquireFork}. */
  public sealed interface ForkReply extends TetherSerializable {}

  /** The fork may proceed; the source now counts it. */
  public record ForkGranted(Offset forkOffset, String contentType, Long ttlSeconds,
      String expiresAt, Long expiresAtMillis) implements ForkReply {}

  /** The fork may not proceed. */
  public record ForkRefused(ForkFailure failure) implements ForkReply {}

  /** Why a fork was refused. */
  public enum ForkFailure {
    /** No source stream. */
    NOT_FOUND,
    /** The source is soft-deleted. */
    SOFT_DELETED,
    /** The requested content type differs from the source's. */
    CONTENT_TYPE_MISMATCH,
    /** The fork offset is past the source's tail. */
    OFFSET_BEYOND_TAIL,
    /** The sub-offset names a position past the next data boundary. */
    SUB_OFFSET_OVERSHOOT
  }
}
