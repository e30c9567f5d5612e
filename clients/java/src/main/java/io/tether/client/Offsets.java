package io.tether.client;

/** The two positions that are not offsets: the beginning of a session and its tail. */
public final class Offsets {
  private Offsets() {}

  /** Before the first event: a session opened here delivers its whole history. */
  public static final String BEGINNING = "-1";

  /** The tail when the session is opened: it delivers only what is appended from then on. */
  public static final String NOW = "now";
}
