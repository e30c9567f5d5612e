package io.tether.actors.session;

import java.util.List;

/**
 * The items of one persisted event, kept in memory for catch-up and live reads.
 *
 * @param position the journal position of the event (stream base plus sequence number)
 * @param items the items in order; item {@code i} has offset {@code (position, i + 1)}
 */
public record TailBatch(long position, List<byte[]> items) {

  /** The payload size of this batch. */
  public long bytes() {
    long total = 0;
    for (byte[] item : items) {
      total += item.length;
    }
    return total;
  }

  /** The offset of the last item in this batch. */
  public Offset lastOffset() {
    return new Offset(position, items.size());
  }
}
