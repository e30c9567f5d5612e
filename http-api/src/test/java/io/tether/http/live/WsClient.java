package io.tether.http.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * A real WebSocket client (the JDK's) for protocol tests: collects every text frame as JSON and
 * waits for frames matching a condition, with a deadline (never a sleep).
 */
final class WsClient implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration WAIT = Duration.ofSeconds(30);

  private final WebSocket socket;
  private final LinkedBlockingQueue<JsonNode> sharedFrames;
  private final CompletableFuture<Integer> closedRef;

  /** Connects with the token in the Authorization header (or none when null). */
  static WsClient connect(HttpClient http, String url, String token) {
    return open(http, url, token).join();
  }

  /** Opens a connection; fails with the handshake's failure. */
  static CompletableFuture<WsClient> open(HttpClient http, String url, String token) {
    return open(http, url, token, false);
  }

  /** Opens a connection that reads nothing until {@link #resumeReading()} when paused. */
  static CompletableFuture<WsClient> open(HttpClient http, String url, String token,
      boolean paused) {
    AtomicBoolean reading = new AtomicBoolean(!paused);
    LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public void onOpen(WebSocket ws) {
        if (reading.get()) {
          ws.request(1);
        }
      }

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          try {
            frames.add(JSON.readTree(partial.toString()));
          } catch (Exception e) {
            frames.add(JSON.createObjectNode().put("type", "unparseable"));
          }
          partial.setLength(0);
        }
        if (reading.get()) {
          ws.request(1);
        }
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
      }
    };
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20));
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return builder.buildAsync(URI.create(url), listener)
        .thenApply(ws -> new WsClient(ws, frames, closed, reading));
  }

  private final AtomicBoolean reading;

  private WsClient(WebSocket socket, LinkedBlockingQueue<JsonNode> frames,
      CompletableFuture<Integer> closed, AtomicBoolean reading) {
    this.socket = socket;
    this.reading = reading;
    this.sharedFrames = frames;
    this.closedRef = closed;
  }

  /** Starts reading frames (for a connection opened paused). */
  void resumeReading() {
    reading.set(true);
    socket.request(1);
  }

  /** Sends a text frame. */
  WsClient send(String text) {
    socket.sendText(text, true).join();
    return this;
  }

  /** Sends a JSON frame. */
  WsClient send(JsonNode frame) {
    return send(frame.toString());
  }

  /** Sends a binary frame. */
  WsClient sendBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
    return this;
  }

  /** The next frame, waiting up to the deadline; fails the test when none comes. */
  JsonNode next() {
    try {
      JsonNode frame = sharedFrames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (frame == null) {
        throw new AssertionError("no frame within " + WAIT);
      }
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next frame matching {@code wanted}, skipping (and returning in {@code skipped}) others. */
  JsonNode await(Predicate<JsonNode> wanted, List<JsonNode> skipped) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        JsonNode frame = sharedFrames.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (frame == null) {
          break;
        }
        if (wanted.test(frame)) {
          return frame;
        }
        if (skipped != null) {
          skipped.add(frame);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no matching frame within " + WAIT + "; skipped " + skipped);
  }

  /** The next frame of this type (others skipped). */
  JsonNode await(String type) {
    return await(f -> f.path("type").asText().equals(type), new ArrayList<>());
  }

  /** The next event frame whose event has this type. */
  JsonNode awaitEvent(String eventType) {
    return await(f -> f.path("type").asText().equals("event")
        && f.path("event").path("type").asText().equals(eventType), new ArrayList<>());
  }

  /** Whether the server closed the connection within the deadline. */
  boolean awaitClosed() {
    try {
      closedRef.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** Drops the TCP connection without a close handshake (a lost network). */
  void abort() {
    socket.abort();
  }

  @Override
  public void close() {
    try {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    } catch (CompletionException | IllegalStateException e) {
      socket.abort();
    }
  }
}
