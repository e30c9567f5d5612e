package io.tether.actors.session;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A position in a durable stream: the boundary just after one item.
 *
 * <p>An item persisted at journal sequence number {@code s} as the {@code i}-th item (0-based) of
 * its event gets the offset {@code (base + s, i + 1)}, where {@code base} is fixed per stream
 * incarnation (0 for a plain stream, the fork point's position for a fork, so a fork's own offsets
 * always sort after the data it inherits). {@link #ZERO} is the start of every stream. A read
 * "from" an offset returns the items whose offsets are strictly greater.
 *
 * <p>On the wire an offset is two zero-padded 16-digit decimals joined by {@code _}; fixed width
 * makes the lexicographic order of the strings equal to the numeric order. Clients never parse it.
 *
 * @param position the journal position (stream base plus sequence number) of the item's event
 * @param index the 1-based index of the item inside its event, 0 for "before the event"
 */
public record Offset(long position, long index) implements Comparable<Offset> {

  /** The start of a stream, before any item. */
  public static final Offset ZERO = new Offset(0, 0);

  private static final Pattern WIRE = Pattern.compile("\\d{16}_\\d{16}");

  /** Parses the wire form; empty when the text is not exactly an offset this server mints. */
  public static Optional<Offset> parse(String text) {
    if (text == null || !WIRE.matcher(text).matches()) {
      return Optional.empty();
    }
    return Optional.of(new Offset(Long.parseLong(text.substring(0, 16)),
        Long.parseLong(text.substring(17))));
  }

  /** The wire form: {@code 0000000000000042_0000000000000003}. */
  public String encode() {
    return String.format("%016d_%016d", position, index);
  }

  @Override
  public int compareTo(Offset other) {
    int byPosition = Long.compare(position, other.position);
    return byPosition != 0 ? byPosition : Long.compare(index, other.index);
  }

  /** Whether this offset sorts strictly after {@code other}. */
  public boolean isAfter(Offset other) {
    return compareTo(other) > 0;
  }

  /** Whether this offset sorts strictly before {@code other}. */
  public boolean isBefore(Offset other) {
    return compareTo(other) < 0;
  }

  @Override
  public String toString() {
    return encode();
  }
}
