package io.tether.actors.session.stream;

import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import io.tether.actors.session.StreamState;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The appends accepted since the last journal write began, waiting to be persisted together as
 * one group commit, and the state they will produce once persisted (producer table,
 * {@code Stream-Seq}, closure). New appends are validated against that projected state, so a
 * batch never contains two appends that contradict each other.
 *
 * <p>Transient and owned by one entity: it lives only between a write and the next.
 */
final class GroupCommitBuffer {

  /**
   * One waiting append.
   *
   * @param replyTo who gets the acknowledgement once the batch is durable
   * @param items the items to append (empty for close-only and duplicates)
   * @param producer the producer headers, or null
   * @param duplicate whether this is an idempotent retry of data already accepted
   * @param close whether this append closes the stream
   * @param ackEpoch the producer epoch to acknowledge
   * @param ackSeq the highest producer sequence to acknowledge
   */
  record Entry(ActorRef<Session.AppendReply> replyTo, List<byte[]> items, ProducerTuple producer,
      boolean duplicate, boolean close, long ackEpoch, long ackSeq) {}

  private final List<Entry> entries = new ArrayList<>();
  /** Allocated on the first producer update: most entities are idle, and idle costs memory. */
  private Map<String, ProducerState> producers = Map.of();
  private String streamSeq;
  private boolean closing;
  private ProducerTuple closedBy;
  private long bytes;

  /** The producer state after the buffered appends, or null when unknown. */
  ProducerState producer(StreamState state, String producerId) {
    ProducerState pending = producers.get(producerId);
    return pending != null ? pending : state.producers().get(producerId);
  }

  /** The highest {@code Stream-Seq} after the buffered appends, or null. */
  String lastStreamSeq(StreamState state) {
    return streamSeq != null ? streamSeq : state.lastStreamSeq();
  }

  /** Whether the stream will be closed once the buffered appends are persisted. */
  boolean closed(StreamState state) {
    return state.closed() || closing;
  }

  /** The tuple that closed (or will close) the stream, or null. */
  ProducerTuple closedBy(StreamState state) {
    return closing ? closedBy : state.closedBy();
  }

  /** Adds an accepted append and folds its effects into the projected state. */
  void add(Entry entry, ProducerState producerUpdate, String newStreamSeq) {
    entries.add(entry);
    for (byte[] item : entry.items()) {
      bytes += item.length;
    }
    if (producerUpdate != null) {
      if (producers.isEmpty()) {
        producers = new HashMap<>(4);
      }
      producers.put(entry.producer().producerId(), producerUpdate);
    }
    if (newStreamSeq != null) {
      streamSeq = newStreamSeq;
    }
    if (entry.close() && !entry.duplicate()) {
      closing = true;
      closedBy = entry.producer();
    }
  }

  /** Whether nothing is waiting. */
  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** Payload bytes waiting. */
  long bytes() {
    return bytes;
  }

  /** Appends waiting. */
  int size() {
    return entries.size();
  }

  /** The waiting appends in arrival order. */
  List<Entry> entries() {
    return List.copyOf(entries);
  }

  /** The producer-table changes of the whole batch. */
  Map<String, ProducerState> producerUpdates() {
    return Map.copyOf(producers);
  }

  /** The new {@code Stream-Seq}, or null when no append in the batch carried one. */
  String streamSeqUpdate() {
    return streamSeq;
  }

  /** Whether the batch closes the stream. */
  boolean closes() {
    return closing;
  }

  /** The tuple closing the stream in this batch, or null. */
  ProducerTuple closingTuple() {
    return closedBy;
  }

  /** Forgets everything; called once the batch has been handed to the journal. */
  void clear() {
    entries.clear();
    producers = Map.of();
    streamSeq = null;
    closing = false;
    closedBy = null;
    bytes = 0;
  }
}
