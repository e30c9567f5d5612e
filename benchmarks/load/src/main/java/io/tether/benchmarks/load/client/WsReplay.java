package io.tether.benchmarks.load.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One replay over Tether's session WebSocket: connects, sends
 * {@code {"type":"resume","after":"-1","granularity":...,"batch":true}}, counts the events
 * (in {@code events} frames, several to a frame, or single {@code event} frames) until the
 * {@code up-to-date} frame, and closes. What a page does when it opens a long session (the
 * clients resume with {@code batch}); the time is from the upgrade request to
 * {@code up-to-date}.
 */
public final class WsReplay {
  /** How a replay went: event frames before {@code up-to-date}, and the time it took. */
  public record Outcome(long events, double millis) {}

  private WsReplay() {}

  /** Replays the session at {@code uri} from the start at {@code granularity} (delta, message). */
  public static Outcome fromStart(HttpClient http, URI uri, String granularity, String device,
      Duration timeout) throws Exception {
    CompletableFuture<Long> done = new CompletableFuture<>();
    long began = System.nanoTime();
    WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
        .buildAsync(uri, new WebSocket.Listener() {
          private final StringBuilder frame = new StringBuilder();
          private long events;

          @Override
          public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            frame.append(data);
            if (last) {
              if (startsWith(frame, "{\"type\":\"events\"")) {
                events += count(frame, "{\"offset\":\"");
              } else if (startsWith(frame, "{\"type\":\"event\"")) {
                events++;
              } else if (startsWith(frame, "{\"type\":\"up-to-date\"")) {
                done.complete(events);
              } else if (startsWith(frame, "{\"type\":\"error\"")) {
                done.completeExceptionally(new IllegalStateException("error frame: " + frame));
              }
              frame.setLength(0);
            }
            socket.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            done.completeExceptionally(new IllegalStateException(
                "closed before up-to-date: " + status + " " + reason));
            return null;
          }

          @Override
          public void onError(WebSocket socket, Throwable error) {
            done.completeExceptionally(error);
          }
        }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    try {
      ws.sendText("{\"type\":\"resume\",\"after\":\"-1\",\"granularity\":\"" + granularity
          + "\",\"device\":\"" + device + "\",\"kind\":\"client\",\"batch\":true}", true);
      long events = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new Outcome(events, (System.nanoTime() - began) / 1e6);
    } finally {
      ws.abort();
    }
  }

  /** Occurrences of {@code needle} (an event's start inside an events frame). */
  private static long count(StringBuilder s, String needle) {
    long n = 0;
    for (int at = s.indexOf(needle); at >= 0; at = s.indexOf(needle, at + needle.length())) {
      n++;
    }
    return n;
  }

  private static boolean startsWith(StringBuilder s, String prefix) {
    return s.length() >= prefix.length() && s.substring(0, prefix.length()).equals(prefix);
  }
}
