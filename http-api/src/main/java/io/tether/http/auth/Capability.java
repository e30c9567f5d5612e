package io.tether.http.auth;

import java.util.Locale;
import java.util.Optional;

/** What a capability token lets its holder do with a session. */
public enum Capability {
  /** Read the session: catch-up reads, live tails, WebSocket subscriptions, metadata. */
  SUBSCRIBE,
  /** Write to the session: create it, append events, close it. */
  PUBLISH,
  /** Control the session and its runs: cancel, steer, interrupt, delete. */
  CONTROL;

  /** The lower-case name used in tokens and requests. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name; empty when unknown. */
  public static Optional<Capability> fromWire(String name) {
    for (Capability c : values()) {
      if (c.wireName().equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
