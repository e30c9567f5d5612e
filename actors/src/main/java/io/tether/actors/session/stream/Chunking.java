package io.tether.actors.session.stream;

import io.tether.actors.session.Offset;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.StreamState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a group commit becomes events: items are packed into {@code ItemsAppended} events of at
 * most {@code tether.session.chunk-bytes} each (an item larger than that is split into pieces
 * unless the stream is JSON, whose messages are never split), all persisted in one atomic
 * write. Pure functions.
 */
final class Chunking {
  private Chunking() {}

  /**
   * The events of one group commit.
   *
   * @param events the events to persist, in order
   * @param lastOffsets the offset of each entry's last item once persisted (null for an entry
   *     that writes no item)
   * @param items how many items are written
   * @param bytes their payload size
   */
  record Batch(List<SessionEvent> events, Offset[] lastOffsets, int items, long bytes) {}

  /** The events writing {@code entries} after {@code state}, closing the stream if asked. */
  static Batch batch(StreamState state, GroupCommitBuffer buffer,
      List<GroupCommitBuffer.Entry> entries, int chunkBytes) {
    boolean splittable = !io.tether.actors.session.MediaTypes.isJson(state.contentType());
    List<List<byte[]>> chunks = new ArrayList<>();
    List<byte[]> current = new ArrayList<>();
    long currentBytes = 0;
    int items = 0;
    long bytes = 0;
    Offset[] lastOffsets = new Offset[entries.size()];
    for (int e = 0; e < entries.size(); e++) {
      GroupCommitBuffer.Entry entry = entries.get(e);
      if (entry.duplicate()) {
        continue;
      }
      items += entry.items().size();
      for (byte[] item : entry.items()) {
        bytes += item.length;
        for (byte[] piece : split(item, splittable, chunkBytes)) {
          if (!current.isEmpty() && currentBytes + piece.length > chunkBytes) {
            chunks.add(current);
            current = new ArrayList<>();
            currentBytes = 0;
          }
          current.add(piece);
          currentBytes += piece.length;
          lastOffsets[e] = new Offset(state.base() + state.seqNr() + chunks.size() + 1,
              current.size());
        }
      }
    }
    if (!current.isEmpty()) {
      chunks.add(current);
    }
    List<SessionEvent> events = new ArrayList<>();
    var producers = buffer.producerUpdates();
    for (int i = 0; i < chunks.size(); i++) {
      boolean last = i == chunks.size() - 1;
      events.add(new SessionEvent.ItemsAppended(List.copyOf(chunks.get(i)),
          last ? producers : java.util.Map.of(), last ? buffer.streamSeqUpdate() : null));
    }
    if (buffer.closes()) {
      events.add(new SessionEvent.StreamClosed(buffer.closingTuple(),
          chunks.isEmpty() ? producers : java.util.Map.of()));
    }
    return new Batch(events, lastOffsets, items, bytes);
  }

  /** {@code items} packed into events of at most {@code max} bytes (a stream's first items). */
  static List<List<byte[]>> chunk(List<byte[]> items, boolean splittable, int max) {
    List<List<byte[]>> chunks = new ArrayList<>();
    List<byte[]> current = new ArrayList<>();
    long bytes = 0;
    for (byte[] item : items) {
      for (byte[] piece : split(item, splittable, max)) {
        if (!current.isEmpty() && bytes + piece.length > max) {
          chunks.add(List.copyOf(current));
          current = new ArrayList<>();
          bytes = 0;
        }
        current.add(piece);
        bytes += piece.length;
      }
    }
    if (!current.isEmpty()) {
      chunks.add(List.copyOf(current));
    }
    return chunks;
  }

  /** {@code item} in pieces of at most {@code max} bytes, or whole when not splittable. */
  static List<byte[]> split(byte[] item, boolean splittable, int max) {
    if (!splittable || item.length <= max) {
      return List.of(item);
    }
    List<byte[]> pieces = new ArrayList<>();
    for (int from = 0; from < item.length; from += max) {
      pieces.add(Arrays.copyOfRange(item, from, Math.min(item.length, from + max)));
    }
    return pieces;
  }
}
