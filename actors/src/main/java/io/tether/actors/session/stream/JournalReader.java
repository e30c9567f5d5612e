package io.tether.actors.session.stream;

import io.tether.actors.session.Offset;
import io.tether.actors.session.SessionEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Reads a stream's items older than its in-memory tail back from the journal, by sequence-number
 * range, through Pekko Persistence Query ({@code currentEventsByPersistenceId}). Used for
 * catch-up only; live delivery never touches the journal.
 */
public final class JournalReader {

  /**
   * Items read from the journal.
   *
   * @param items the items, in order
   * @param offsets the offset of each item
   * @param truncated whether the byte budget stopped the read before the end of the range
   */
  public record Chunk(List<byte[]> items, List<Offset> offsets, boolean truncated) {}

  private final CurrentEventsByPersistenceIdQuery journal;
  private final Materializer materializer;

  /** A reader over the read journal plugin with the given id. */
  public JournalReader(ActorSystem<?> system, String readJournalPluginId) {
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournalPluginId);
    this.materializer = Materializer.matFromSystem(system);
  }

  /**
   * The items with offsets in {@code (from, upTo]} found in events {@code [fromSeq, toSeq]},
   * stopping before the item that would take the payload past {@code maxBytes} (at least one
   * item is always returned when there is one).
   */
  public CompletionStage<Chunk> read(String persistenceId, long fromSeq, long toSeq, long base,
      Offset from, Offset upTo, int maxBytes) {
    long[] used = {0};
    boolean[] truncated = {false};
    return journal.currentEventsByPersistenceId(persistenceId, fromSeq, toSeq)
        .mapConcat(envelope -> itemsOf(envelope, base))
        .filter(item -> item.offset().isAfter(from) && !item.offset().isAfter(upTo))
        .takeWhile(item -> {
          if (used[0] > 0 && used[0] + item.bytes().length > maxBytes) {
            truncated[0] = true;
            return false;
          }
          used[0] += item.bytes().length;
          return true;
        })
        .runWith(Sink.seq(), materializer)
        .thenApply(found -> {
          List<byte[]> items = new ArrayList<>(found.size());
          List<Offset> offsets = new ArrayList<>(found.size());
          for (Positioned p : found) {
            items.add(p.bytes());
            offsets.add(p.offset());
          }
          return new Chunk(items, offsets, truncated[0]);
        });
  }

  private record Positioned(Offset offset, byte[] bytes) {}

  private static List<Positioned> itemsOf(EventEnvelope envelope, long base) {
    if (!(envelope.event() instanceof SessionEvent.ItemsAppended appended)) {
      return List.of();
    }
    long position = base + envelope.sequenceNr();
    List<Positioned> out = new ArrayList<>(appended.items().size());
    for (int i = 0; i < appended.items().size(); i++) {
      out.add(new Positioned(new Offset(position, i + 1), appended.items().get(i)));
    }
    return out;
  }
}
