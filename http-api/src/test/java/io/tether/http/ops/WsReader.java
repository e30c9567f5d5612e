package io.tether.http.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A session WebSocket reader over the JDK client that records the {@code n} of every producer
 * event it receives and the offset of the last event, and whose demand the test controls: {@link #stall()} stops
 * reading from the socket (TCP back-pressure reaches the server), {@link #release()} reads on.
 * A socket the server closed (a stalled connection idles out) shows in {@link #closed}; the
 * caller resumes on a new one from {@link #lastOffset}.
 */
final class WsReader implements WebSocket.Listener {
  private static final ObjectMapper JSON = new ObjectMapper();

  final List<Integer> received = new ArrayList<>();
  final List<String> errors = new ArrayList<>();
  volatile String lastOffset;
  /** Whether the server closed the socket (or it failed). */
  volatile boolean closed;
  private final StringBuilder partial = new StringBuilder();
  private volatile boolean stalled;
  private WebSocket socket;

  /** Opens a socket to {@code url} and resumes after {@code after} as {@code device}. */
  static WsReader open(String url, String after, String device) throws Exception {
    return open(url, after, device, false);
  }

  /**
   * Opens a socket and resumes; with {@code batch}, as {@code @tether/client} does (several
   * events to an {@code events} frame).
   */
  static WsReader open(String url, String after, String device, boolean batch)
      throws Exception {
    WsReader reader = new WsReader();
    reader.socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create(url), reader).get(30, TimeUnit.SECONDS);
    reader.socket.sendText("{\"type\":\"resume\",\"after\":\"" + after
        + "\",\"granularity\":\"delta\",\"device\":\"" + device + "\",\"kind\":\"client\""
        + (batch ? ",\"batch\":true" : "") + "}", true)
        .get(10, TimeUnit.SECONDS);
    return reader;
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      String text = partial.toString();
      partial.setLength(0);
      try {
        JsonNode frame = JSON.readTree(text);
        String type = frame.path("type").asText();
        // Presence events the session writes itself (joins and leaves) carry no "n".
        if (type.equals("event")) {
          record(frame);
        } else if (type.equals("events")) {
          for (JsonNode one : frame.path("events")) {
            record(one);
          }
        } else if (type.equals("error")) {
          synchronized (this) {
            errors.add(text);
          }
        }
      } catch (Exception e) {
        synchronized (this) {
          errors.add("unparsable frame: " + text);
        }
      }
    }
    if (!stalled) {
      webSocket.request(1);
    }
    return null;
  }

  /** Records an {@code {offset, event}} pair (presence events, without "n", are skipped). */
  private void record(JsonNode entry) {
    if (entry.path("event").path("data").has("n")) {
      synchronized (this) {
        received.add(entry.path("event").path("data").path("n").asInt(-1));
        lastOffset = entry.path("offset").asText();
      }
    }
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed = true;
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed = true;
  }

  synchronized int count() {
    return received.size();
  }

  synchronized List<Integer> snapshot() {
    return List.copyOf(received);
  }

  /** Stops asking for frames: the server's writes back up into its bounded queue. */
  void stall() {
    stalled = true;
  }

  /** Asks for frames again. */
  void release() {
    stalled = false;
    socket.request(1);
  }

  /** Closes the socket (a leave, never a cancel). */
  void close() {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(5, TimeUnit.SECONDS)
        .exceptionally(e -> null).join();
    socket.abort();
  }
}
