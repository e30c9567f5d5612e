package io.tether.benchmarks.load.client;

import io.tether.benchmarks.load.measure.DeliverySink;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A live reader over Tether's session WebSocket ({@code GET /v1/sessions/<id>/ws}), on the JDK
 * {@link WebSocket}: every socket is served by its {@code HttpClient}'s selector thread, so
 * thousands of them need no thread each.
 *
 * <p>The exchange, as the README's WebSocket section documents it: after the upgrade the reader
 * sends {@code {"type":"resume","after":<-1|now|offset>,"granularity":"delta","device":..,
 * "kind":"client"}}; the server replays what the reader missed as {@code event} frames
 * ({@code {"type":"event","offset":..,"event":{..}}}, one event each, in offset order), sends
 * {@code up-to-date}, then pushes new events live. The reader keeps the offset of the last event,
 * hands every event frame to the sink (the embedded {@code "t"} send times become latencies),
 * and sends {@code {"type":"ping"}} inside the server's idle timeout (90 s). {@code error} frames
 * are counted; the connection stays usable unless the server closes it.
 *
 * <p>When the socket ends without {@link #stop()} (the node died, the server closed it), the
 * reader reconnects and resumes after the last offset it received, as a client would, trying the
 * next endpoint of its list after a failure (the other nodes of a cluster). It gives up after a
 * run of consecutive failures without reaching {@code up-to-date}.
 */
public final class WsSubscriber extends AbstractSubscriber {
  /** Called for every event frame, on the client's thread, in delivery order. */
  @FunctionalInterface
  public interface EventListener {
    void onEvent(String frame, String offset, long receivedNanos);
  }

  /**
   * How the reader behaves on failure and while idle.
   *
   * @param maxConsecutiveFailures connections in a row that may end before {@code up-to-date}
   * @param retryDelay wait before reconnecting after a failure
   * @param pingInterval how often a {@code ping} frame goes out (inside the server's idle timeout)
   * @param connectTimeout for the TCP connect and upgrade
   */
  public record Settings(int maxConsecutiveFailures, Duration retryDelay, Duration pingInterval,
      Duration connectTimeout) {
    /**
     * Five failures in a row, 200 ms apart; a ping every 30 s (Tether closes after 90 s); 30 s
     * for the upgrade (the JDK's timeout covers the whole opening handshake, which takes
     * seconds on a busy machine when hundreds connect at once).
     */
    public static final Settings DEFAULT = new Settings(5, Duration.ofMillis(200),
        Duration.ofSeconds(30), Duration.ofSeconds(30));
  }

  private static final AtomicLong DEVICES = new AtomicLong();
  private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(
      r -> {
        Thread t = new Thread(r, "ws-timers");
        t.setDaemon(true);
        return t;
      });
  private static final String EVENT_PREFIX = "{\"type\":\"event\"";

  private final HttpClient http;
  private final List<URI> endpoints;
  private final String bearer;
  private final String device;
  private final DeliverySink sink;
  private final EventListener listener;
  private final Settings settings;
  private final AtomicInteger errorFrames = new AtomicInteger();
  private final AtomicLong eventsWithoutTimestamp = new AtomicLong();
  private volatile String after;
  private volatile String lastError = "none";
  private volatile boolean stopped;
  private volatile URI connectedTo;
  // Guarded by this: the current connection attempt and its socket, pinger and send chain.
  private Connection current;
  private int endpoint;
  private int consecutiveFailures;

  /**
   * A reader of one session, not yet started.
   *
   * @param endpoints the session's socket URI on each node to try, first one first
   * @param bearer a capability token, or null when the server needs none
   * @param device the device this connection speaks for (presence is per device)
   * @param after {@code now} (the tail), {@code -1} (everything) or an offset
   * @param listener also told of every event frame, or null
   */
  public WsSubscriber(HttpClient http, List<URI> endpoints, String bearer, String device,
      String after, DeliverySink sink, EventListener listener, Settings settings) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("a WebSocket reader needs an endpoint");
    }
    this.http = http;
    this.endpoints = List.copyOf(endpoints);
    this.bearer = bearer;
    this.device = device;
    this.after = after;
    this.sink = sink;
    this.listener = listener;
    this.settings = settings;
  }

  /** A device name unique in this JVM, for readers that are each a different client. */
  public static String nextDevice() {
    return "bench-" + DEVICES.incrementAndGet();
  }

  /**
   * Null when {@code uri} serves the session WebSocket (a resume from {@code -1} of an existing
   * JSON stream reaches {@code up-to-date} within {@code timeout}); otherwise why not, e.g.
   * "the WebSocket upgrade answered HTTP 404".
   */
  public static String probe(HttpClient http, URI uri, String bearer, Duration timeout) {
    DeliverySink sink = new DeliverySink(new io.tether.benchmarks.load.measure.RateTimeline(1));
    WsSubscriber probe = new WsSubscriber(http, List.of(uri), bearer, "bench-probe", "-1", sink,
        null, new Settings(1, Duration.ZERO, Duration.ofSeconds(30), timeout));
    probe.start();
    try {
      probe.ready().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (java.util.concurrent.TimeoutException e) {
      return "no up-to-date frame within " + timeout.toSeconds() + " s";
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return cause.getMessage();
    } finally {
      probe.stop();
    }
  }

  @Override
  public void start() {
    connect();
  }

  private void connect() {
    Connection c;
    synchronized (this) {
      if (stopped) {
        finish();
        return;
      }
      c = new Connection(endpoints.get(endpoint));
      current = c;
    }
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(settings.connectTimeout);
    if (bearer != null) {
      builder.header("Authorization", "Bearer " + bearer);
    }
    builder.buildAsync(c.uri, c).whenComplete((ws, error) -> {
      if (error != null) {
        c.ended(describe(error));
      } else if (stopped) {
        ws.abort();
      }
    });
  }

  /** The socket of {@code c} ended (or never opened) without {@link #stop()}. */
  private void ended(Connection c, String reason) {
    boolean giveUp;
    synchronized (this) {
      if (c != current) {
        return;
      }
      current = null;
      if (stopped) {
        finish();
        return;
      }
      failures.incrementAndGet();
      lastError = reason;
      consecutiveFailures++;
      giveUp = consecutiveFailures >= settings.maxConsecutiveFailures;
      endpoint = (endpoint + 1) % endpoints.size();
    }
    if (giveUp) {
      ready.completeExceptionally(new IllegalStateException("WebSocket " + c.uri + ": " + reason));
      finish();
      return;
    }
    reconnects.incrementAndGet();
    TIMERS.schedule(this::connect, settings.retryDelay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void onFrame(Connection c, String frame) {
    long now = System.nanoTime();
    // The server renders the type first; the prefix test spares a field search per event.
    String type = frame.startsWith(EVENT_PREFIX) ? "event"
        : SseSubscriber.stringField(frame, "type");
    if ("event".equals(type)) {
      String offset = SseSubscriber.stringField(frame, "offset");
      if (offset != null) {
        after = offset;
      }
      if (sink.onPayload(frame) == 0) {
        eventsWithoutTimestamp.incrementAndGet();
      }
      sequence.check(frame);
      if (listener != null) {
        listener.onEvent(frame, offset, now);
      }
    } else if ("up-to-date".equals(type)) {
      String offset = SseSubscriber.stringField(frame, "offset");
      if (offset != null) {
        after = offset;
      }
      synchronized (this) {
        consecutiveFailures = 0;
      }
      connectedTo = c.uri;
      ready.complete(null);
    } else if ("error".equals(type)) {
      errorFrames.incrementAndGet();
      lastError = "error frame '" + SseSubscriber.stringField(frame, "code") + "'";
    }
  }

  private static String describe(Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (e instanceof WebSocketHandshakeException h) {
      return "the WebSocket upgrade answered HTTP " + h.getResponse().statusCode();
    }
    return e.toString();
  }

  /** Closes the socket politely (close frame), abruptly if the server has not closed in 1 s. */
  @Override
  public void stop() {
    Connection c;
    synchronized (this) {
      stopped = true;
      c = current;
    }
    if (c == null) {
      finish();
      return;
    }
    c.close();
  }


  /** Error frames received (the server says what it refused; the socket usually stays open). */
  public int errorFrames() {
    return errorFrames.get();
  }

  /** Event frames without a send time: events the session wrote itself (presence). */
  public long eventsWithoutTimestamp() {
    return eventsWithoutTimestamp.get();
  }

  /** The offset this reader would resume after. */
  public String lastOffset() {
    return after;
  }

  /** The last failure or error frame, for the results. */
  public String lastError() {
    return lastError;
  }

  /** The endpoint of the connection that last reached {@code up-to-date}, or null. */
  public URI connectedTo() {
    return connectedTo;
  }

  /** One connection attempt: its socket's listener, its pinger, its ordered sends. */
  private final class Connection implements WebSocket.Listener {
    private final URI uri;
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    private ScheduledFuture<?> pinger;
    private CompletableFuture<?> sends = CompletableFuture.completedFuture(null);
    private boolean over;

    Connection(URI uri) {
      this.uri = uri;
    }

    @Override
    public void onOpen(WebSocket ws) {
      long period = settings.pingInterval.toMillis();
      synchronized (this) {
        socket = ws;
        pinger = TIMERS.scheduleAtFixedRate(() -> send("{\"type\":\"ping\"}"),
            ThreadLocalRandom.current().nextLong(period / 2, period), period,
            TimeUnit.MILLISECONDS);
      }
      send("{\"type\":\"resume\",\"after\":\"" + after + "\",\"granularity\":\"delta\","
          + "\"device\":\"" + device + "\",\"kind\":\"client\"}");
      ws.request(Long.MAX_VALUE);
    }

    /** JDK WebSockets take one send at a time: each waits for the previous one. */
    private synchronized void send(String text) {
      WebSocket ws = socket;
      if (ws == null || over) {
        return;
      }
      sends = sends.handle((x, e) -> null).thenCompose(x -> ws.sendText(text, true));
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      if (partial.length() == 0 && last) {
        onFrame(this, data.toString());
      } else {
        partial.append(data);
        if (last) {
          String frame = partial.toString();
          partial.setLength(0);
          onFrame(this, frame);
        }
      }
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      ended("closed by the server (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")");
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      ended(describe(error));
    }

    void ended(String reason) {
      synchronized (this) {
        over = true;
        if (pinger != null) {
          pinger.cancel(false);
        }
      }
      WsSubscriber.this.ended(this, reason);
    }

    void close() {
      WebSocket ws;
      synchronized (this) {
        over = true;
        if (pinger != null) {
          pinger.cancel(false);
        }
        ws = socket;
        if (ws != null) {
          sends = sends.handle((x, e) -> null)
              .thenCompose(x -> ws.sendClose(WebSocket.NORMAL_CLOSURE, ""));
        }
      }
      if (ws == null) {
        // Still connecting: the upgrade's completion sees stopped and aborts the socket.
        finish();
        return;
      }
      TIMERS.schedule(() -> {
        ws.abort();
        finish();
      }, 1, TimeUnit.SECONDS);
    }
  }
}
