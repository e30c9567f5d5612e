package io.tether.benchmarks.load.client;

import io.tether.benchmarks.load.measure.DeliverySink;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * A live reader in SSE mode ({@code GET ?offset=&live=sse}). It parses the event stream line by
 * line on the HTTP client's threads (no thread per connection), hands each {@code data} event to
 * the sink and takes the resume offset from each {@code control} event. When the server ends the
 * response (the protocol lets it close every ~60 s) it reconnects from that offset; it gives up
 * after a run of consecutive failures.
 */
public final class SseSubscriber extends AbstractSubscriber {
  private static final int MAX_CONSECUTIVE_FAILURES = 5;

  private final HttpClient http;
  private final StreamClient client;
  private final String stream;
  private final DeliverySink sink;
  private volatile String offset;
  private volatile boolean stopped;
  private volatile boolean closedByServer;
  private volatile Flow.Subscription subscription;
  private int consecutiveFailures;

  SseSubscriber(HttpClient http, StreamClient client, String stream, String offset,
      DeliverySink sink) {
    this.http = http;
    this.client = client;
    this.stream = stream;
    this.offset = offset;
    this.sink = sink;
  }

  @Override
  public void start() {
    connect();
  }

  private void connect() {
    if (stopped || closedByServer) {
      finish();
      return;
    }
    HttpRequest request = client.authorize(
            HttpRequest.newBuilder(client.withOffset(stream, offset, "sse")))
        .header("Accept", "text/event-stream")
        .GET().build();
    http.sendAsync(request, this::bodyFor).whenComplete((response, error) -> {
      boolean failed = error != null || response.statusCode() != 200;
      if (failed) {
        failures.incrementAndGet();
        consecutiveFailures++;
      } else {
        consecutiveFailures = 0;
      }
      if (stopped || closedByServer) {
        finish();
      } else if (consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
        ready.completeExceptionally(new IllegalStateException("SSE on " + stream + " failed: "
            + (error != null ? error : "HTTP " + response.statusCode())));
        finish();
      } else {
        reconnects.incrementAndGet();
        CompletableFuture.delayedExecutor(failed ? 200 : 0, TimeUnit.MILLISECONDS)
            .execute(this::connect);
      }
    });
  }

  private BodySubscriber<Void> bodyFor(HttpResponse.ResponseInfo info) {
    if (info.statusCode() != 200) {
      return BodySubscribers.discarding();
    }
    return BodySubscribers.fromLineSubscriber(new Lines(), lines -> null,
        StandardCharsets.UTF_8, null);
  }

  private void onEvent(String type, String data) {
    if ("data".equals(type)) {
      sink.onPayload(data);
      sequence.check(data);
    } else if ("control".equals(type)) {
      String next = stringField(data, "streamNextOffset");
      if (next == null) {
        failures.incrementAndGet();
      } else {
        offset = next;
      }
      closedByServer |= data.contains("\"streamClosed\"")
          && data.replaceAll("\\s", "").contains("\"streamClosed\":true");
      ready.complete(null);
    }
  }

  /**
   * The string value of a top-level field of a small JSON object, or null. A control event
   * arrives with every data event, so this avoids a JSON parse per delivery; offsets contain no
   * escapes (the protocol keeps them URL-safe).
   */
  static String stringField(String json, String field) {
    int key = json.indexOf("\"" + field + "\"");
    if (key < 0) {
      return null;
    }
    int colon = json.indexOf(':', key + field.length() + 2);
    int open = colon < 0 ? -1 : json.indexOf('"', colon + 1);
    int close = open < 0 ? -1 : json.indexOf('"', open + 1);
    return close < 0 ? null : json.substring(open + 1, close);
  }

  /**
   * Cancelling the body closes the connection, but the JDK then never completes the response
   * future, so the reader counts as finished as soon as it has cancelled.
   */
  @Override
  public void stop() {
    stopped = true;
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
      finish();
    }
  }


  /** The SSE grammar, reduced to what the protocol sends: event, data and blank lines. */
  private final class Lines implements Flow.Subscriber<String> {
    private String type = "message";
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (stopped) {
        s.cancel();
        finish();
      } else {
        s.request(Long.MAX_VALUE);
      }
    }

    @Override
    public void onNext(String line) {
      if (line.isEmpty()) {
        if (hasData) {
          onEvent(type, data.toString());
        }
        type = "message";
        data.setLength(0);
        hasData = false;
      } else if (line.startsWith("event:")) {
        type = line.substring(6).trim();
      } else if (line.startsWith("data:")) {
        if (hasData) {
          data.append('\n');
        }
        data.append(line, line.startsWith("data: ") ? 6 : 5, line.length());
        hasData = true;
      }
    }

    @Override
    public void onError(Throwable throwable) {
      // The response future reports the same failure; counting it there avoids double counting.
    }

    @Override
    public void onComplete() {}
  }
}
