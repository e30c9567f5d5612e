package io.tether.actors.session;

import java.util.Optional;

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

  private static final int DIGITS = 16;
  private static final int WIRE_LENGTH = 2 * DIGITS + 1;
  private static final long LIMIT = 10_000_000_000_000_000L; // 10^16

  /** Parses the wire form; empty when the text is not exactly an offset this server mints. */
  public static Optional<Offset> parse(String text) {
    if (text == null || text.length() != WIRE_LENGTH || text.charAt(DIGITS) != '_') {
      return Optional.empty();
    }
    long position = digits(text, 0);
    long index = digits(text, DIGITS + 1);
    return position < 0 || index < 0 ? Optional.empty()
        : Optional.of(new Offset(position, index));
  }

  /** The 16 ASCII digits at {@code from} as a number, or -1 when one is not a digit. */
  private static long digits(String text, int from) {
    long value = 0;
    for (int i = from; i < from + DIGITS; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /**
   * The wire form: {@code 0000000000000042_0000000000000003}. On every read and every delivered
   * event, so it is written digit by digit rather than through {@code String.format}.
   */
  public String encode() {
    if (position < 0 || index < 0 || position >= LIMIT || index >= LIMIT) {
      return String.format("%016d_%016d", position, index); // never minted; kept exact
    }
    byte[] out = new byte[WIRE_LENGTH];
    fill(out, 0, position);
    out[DIGITS] = '_';
    fill(out, DIGITS + 1, index);
    return new String(out, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private static void fill(byte[] out, int from, long value) {
    for (int i = from + DIGITS - 1; i >= from; i--) {
      out[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
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

  /**
   * The offset a read must start after to include the item at this offset (index 0 of the same
   * position: it sorts before every item of the event).
   */
  public Offset justBefore() {
    return index > 0 ? new Offset(position, index - 1) : this;
  }

  @Override
  public String toString() {
    return encode();
  }
}
