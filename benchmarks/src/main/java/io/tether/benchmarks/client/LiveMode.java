package io.tether.benchmarks.client;

import io.tether.benchmarks.measure.DeliverySink;
import java.net.http.HttpClient;

/** How live subscribers read: Server-Sent Events or long-poll (the protocol's two live modes). */
public enum LiveMode {
  SSE("sse"),
  LONG_POLL("long-poll");

  private final String wire;

  LiveMode(String wire) {
    this.wire = wire;
  }

  /** The {@code live=} value on the wire. */
  public String wire() {
    return wire;
  }

  public static LiveMode parse(String s) {
    for (LiveMode m : values()) {
      if (m.wire.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException("live mode must be sse or long-poll, not " + s);
  }

  /** A reader of {@code stream} from {@code offset} ({@code now} for the tail), not yet started. */
  public LiveSubscriber subscriber(HttpClient http, StreamClient client, String stream,
      String offset, DeliverySink sink) {
    return this == SSE
        ? new SseSubscriber(http, client, stream, offset, sink)
        : new LongPollSubscriber(http, client, stream, offset, sink);
  }
}
