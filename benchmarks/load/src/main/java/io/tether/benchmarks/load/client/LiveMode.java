package io.tether.benchmarks.load.client;

import io.tether.benchmarks.load.measure.DeliverySink;
import java.net.http.HttpClient;
import java.util.List;

/**
 * How live subscribers read: the Durable Streams protocol's two live modes (Server-Sent Events,
 * long-poll), or Tether's session WebSocket, which only servers that have it serve (a scenario
 * falls back to SSE for the others and says so in its results).
 */
public enum LiveMode {
  SSE("sse"),
  LONG_POLL("long-poll"),
  WS("ws");

  private final String wire;

  LiveMode(String wire) {
    this.wire = wire;
  }

  /** The name on the command line and in the results ({@code live=} value for SSE/long-poll). */
  public String wire() {
    return wire;
  }

  public static LiveMode parse(String s) {
    for (LiveMode m : values()) {
      if (m.wire.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException("live mode must be sse, long-poll or ws, not " + s);
  }

  /** A reader of {@code stream} from {@code offset} ({@code now} for the tail), not yet started. */
  public LiveSubscriber subscriber(HttpClient http, StreamClient client, String stream,
      String offset, DeliverySink sink) {
    return switch (this) {
      case SSE -> new SseSubscriber(http, client, stream, offset, sink);
      case LONG_POLL -> new LongPollSubscriber(http, client, stream, offset, sink);
      case WS -> new WsSubscriber(http, List.of(client.sessionSocketUri(stream)), client.bearer(),
          WsSubscriber.nextDevice(), offset, sink, null, WsSubscriber.Settings.DEFAULT);
    };
  }
}
