package io.tether.actors.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The recovered state of one stream entity: metadata, producer table, fork bookkeeping and a
 * bounded tail of recent items. It never holds the whole stream: items older than the tail are
 * read back from the journal. Immutable; every event yields a new value.
 *
 * @param seqNr the sequence number of the last applied event
 * @param lifecycle whether the stream exists, is soft-deleted or absent
 * @param incarnationStart the sequence number of the current incarnation's creation event; reads
 *     never look at events before it (the retention horizon after a delete)
 * @param base the position base of this incarnation (see {@link Offset})
 * @param contentType the content type as created
 * @param ttlSeconds the sliding TTL, or null
 * @param expiresAt the absolute expiry as given, or null
 * @param expiresAtMillis the absolute expiry in epoch millis, or null
 * @param closed whether the stream is closed
 * @param closedBy the producer tuple that closed the stream, or null
 * @param lastStreamSeq the highest {@code Stream-Seq} accepted, or null
 * @param producers the idempotent producer table
 * @param fork where this stream was forked from, or null
 * @param forkRefs how many live forks read this stream's data
 * @param tail the offset after the last item
 * @param recent the most recent persisted batches, oldest first
 * @param recentBytes the payload size of {@code recent}
 * @param recentFrom every item after this offset is in {@code recent}
 * @param recordedAccess the last access (epoch millis) recorded when the entity last stopped
 *     gracefully, or null when unknown; restores the sliding TTL window after passivation
 * @param ledger what a JSON session remembers about its events (runs, fences, presence,
 *     cursors); empty for other streams
 */
public record StreamState(
    long seqNr,
    Lifecycle lifecycle,
    long incarnationStart,
    long base,
    String contentType,
    Long ttlSeconds,
    String expiresAt,
    Long expiresAtMillis,
    boolean closed,
    ProducerTuple closedBy,
    String lastStreamSeq,
    Map<String, ProducerState> producers,
    ForkOrigin fork,
    int forkRefs,
    Offset tail,
    List<TailBatch> recent,
    long recentBytes,
    Offset recentFrom,
    Long recordedAccess,
    SessionLedger ledger) {

  /** Snapshots taken before sessions had a ledger recover with an empty one. */
  public StreamState {
    if (ledger == null) {
      ledger = SessionLedger.empty();
    }
  }

  /** Whether a stream exists at this id. */
  public enum Lifecycle {
    /** Never created, deleted, or expired. */
    ABSENT,
    /** Readable and, unless closed, writable. */
    ACTIVE,
    /** Deleted by its owner but kept because forks still read its data. */
    SOFT_DELETED
  }

  /** The state before the first event. */
  public static StreamState empty() {
    return EMPTY;
  }

  /** Shared: every entity starts from it, and it is immutable. */
  private static final StreamState EMPTY = new StreamState(0, Lifecycle.ABSENT, 0, 0, null, null,
      null, null, false, null, null, Map.of(), null, 0, Offset.ZERO, List.of(), 0, Offset.ZERO,
      null, SessionLedger.empty());

  /** The metadata clients see. */
  public StreamInfo info() {
    return new StreamInfo(contentType, tail, closed, ttlSeconds, expiresAt);
  }

  /** Whether the stream is ACTIVE. */
  public boolean active() {
    return lifecycle == Lifecycle.ACTIVE;
  }

  /** Whether items after {@code from} (exclusive) are all in {@link #recent}. */
  public boolean recentCovers(Offset from) {
    return !from.isBefore(recentFrom);
  }

  /**
   * This state without its in-memory tail: what a snapshot keeps. Recovery rebuilds the tail
   * only from the events after the snapshot, and older reads go to the journal, as they do for
   * any range older than the tail. A snapshot with the tail (up to {@code tail-max-bytes}, 2 MiB)
   * cost a write of that size every {@code snapshot-every} events and its read and decoding on
   * every recovery.
   */
  public StreamState withoutRecent() {
    if (recent.isEmpty() && recentFrom.equals(tail)) {
      return this;
    }
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork, forkRefs,
        tail, List.of(), 0, tail, recordedAccess, ledger);
  }

  /** The same state, one event later. */
  public StreamState next() {
    return withSeq(seqNr + 1);
  }

  private StreamState withSeq(long seq) {
    return new StreamState(seq, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork, forkRefs,
        tail, recent, recentBytes, recentFrom, recordedAccess, ledger);
  }

  /** A new incarnation begins at this state's sequence number. */
  public StreamState created(SessionEvent.StreamCreated e) {
    Offset start = e.fork() != null ? e.fork().forkOffset() : Offset.ZERO;
    return new StreamState(seqNr, Lifecycle.ACTIVE, seqNr, e.base(), e.contentType(),
        e.ttlSeconds(), e.expiresAt(), e.expiresAtMillis(), false, null, null, Map.of(),
        e.fork(), 0, start, List.of(), 0, start, null, SessionLedger.empty());
  }

  /** Items persisted at this state's sequence number, with producer-table changes. */
  public StreamState appended(SessionEvent.ItemsAppended e, long tailMaxBytes, int tailMaxBatches) {
    TailBatch batch = new TailBatch(base + seqNr, e.items());
    List<TailBatch> nextRecent = new ArrayList<>(recent.size() + 1);
    nextRecent.addAll(recent);
    long bytes = recentBytes;
    Offset nextTail = tail;
    if (!e.items().isEmpty()) {
      nextRecent.add(batch);
      bytes += batch.bytes();
      nextTail = batch.lastOffset();
    }
    Offset complete = recentFrom;
    while (nextRecent.size() > 1
        && (bytes > tailMaxBytes || nextRecent.size() > tailMaxBatches)) {
      TailBatch evicted = nextRecent.remove(0);
      bytes -= evicted.bytes();
      complete = evicted.lastOffset();
    }
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy,
        e.streamSeq() != null ? e.streamSeq() : lastStreamSeq,
        mergeProducers(e.producers()), fork, forkRefs, nextTail,
        Collections.unmodifiableList(nextRecent), bytes, complete, recordedAccess,
        foldLedger(batch));
  }

  /** The stream closed, possibly by an idempotent producer. */
  public StreamState closedNow(SessionEvent.StreamClosed e) {
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, true, e.closedBy(), lastStreamSeq,
        mergeProducers(e.producers()), fork, forkRefs, tail, recent, recentBytes, recentFrom,
        recordedAccess, ledger);
  }

  /** The last access as recorded at a graceful stop (null: unknown). */
  public StreamState withRecordedAccess(Long millis) {
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork, forkRefs,
        tail, recent, recentBytes, recentFrom, millis, ledger);
  }

  /** Read cursors moved (coalesced); never backwards. */
  public StreamState withCursors(Map<String, Offset> moved) {
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork, forkRefs,
        tail, recent, recentBytes, recentFrom, recordedAccess, ledger.withCursors(moved));
  }

  /** The ledger after a persisted batch, for JSON sessions (other streams keep it empty). */
  private SessionLedger foldLedger(TailBatch batch) {
    if (!MediaTypes.isJson(contentType)) {
      return ledger;
    }
    SessionLedger folded = ledger;
    for (int i = 0; i < batch.items().size(); i++) {
      byte[] item = batch.items().get(i);
      if (SessionLedger.foldSkips(item)) {
        continue;
      }
      Offset offset = new Offset(batch.position(), i + 1);
      var envelope = SessionEnvelope.forLedger(item);
      if (envelope.isPresent()) {
        folded = folded.fold(offset, envelope.get());
      }
    }
    return folded;
  }

  /** The fork reference count moved by {@code delta}. */
  public StreamState withForkRefs(int delta) {
    return new StreamState(seqNr, lifecycle, incarnationStart, base, contentType, ttlSeconds,
        expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork,
        Math.max(0, forkRefs + delta), tail, recent, recentBytes, recentFrom, recordedAccess,
        ledger);
  }

  /** Deleted: soft keeps everything for fork readers, hard forgets the incarnation. */
  public StreamState deleted(SessionEvent.StreamDeleted e) {
    if (e.soft()) {
      return new StreamState(seqNr, Lifecycle.SOFT_DELETED, incarnationStart, base, contentType,
          ttlSeconds, expiresAt, expiresAtMillis, closed, closedBy, lastStreamSeq, producers, fork,
          forkRefs, tail, recent, recentBytes, recentFrom, recordedAccess, ledger);
    }
    StreamState fresh = empty();
    return new StreamState(seqNr, Lifecycle.ABSENT, seqNr, 0, null, null, null, null, false, null,
        null, Map.of(), null, 0, Offset.ZERO, fresh.recent(), 0, Offset.ZERO, null,
        SessionLedger.empty());
  }

  private Map<String, ProducerState> mergeProducers(Map<String, ProducerState> updates) {
    if (updates == null || updates.isEmpty()) {
      return producers;
    }
    Map<String, ProducerState> merged = new HashMap<>(producers);
    merged.putAll(updates);
    return Collections.unmodifiableMap(merged);
  }
}
