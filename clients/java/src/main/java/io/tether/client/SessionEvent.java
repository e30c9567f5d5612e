package io.tether.client;

/**
 * An event as a session delivers it: at its offset in the stream. Offsets are opaque, fixed-width
 * strings that sort in stream order; resume after one to continue exactly there.
 *
 * @param offset the event's offset
 * @param event the typed event
 */
public record SessionEvent(String offset, Event event) {

  /** Whether {@code a} comes after {@code b} in the stream ({@code -1} is before everything). */
  public static boolean isAfter(String a, String b) {
    if (b == null || b.equals(Offsets.BEGINNING)) {
      return a != null && !a.equals(Offsets.BEGINNING);
    }
    return a != null && !a.equals(Offsets.BEGINNING) && a.compareTo(b) > 0;
  }
}
