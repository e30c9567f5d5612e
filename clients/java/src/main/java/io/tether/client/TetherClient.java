package io.tether.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The entry point: a Tether node's address, the capability token, and the threads and HTTP
 * client that every session, producer and agent made from it share. Thread-safe; make one per
 * process and {@link #close()} it when done, which closes everything made from it.
 *
 * <pre>{@code
 * try (TetherClient tether = TetherClient.builder(URI.create("http://localhost:8080"))
 *     .token(System.getenv("TETHER_TOKEN")).build()) {
 *   TetherSession chat = tether.session("chat-42").device("laptop")
 *       .listener(new SessionListener() {
 *         public void onEvent(SessionEvent e) { System.out.println(e.offset() + " " + e.event()); }
 *       })
 *       .open();
 *   chat.publish(Events.userMessage("m-1", "Plan a trip")).join();
 * }
 * }</pre>
 *
 * <p>Threads: a cached pool of daemon threads named {@code tether-client-N} (the HTTP client's
 * callbacks and event delivery) and one timer thread; both end on {@link #close()}. When the
 * client was given its own {@link HttpClient}, that one is the caller's to manage. (On Java 17
 * an {@code HttpClient} has no close method: its selector thread ends once the client is
 * garbage.)
 */
public final class TetherClient implements AutoCloseable {
  private static final AtomicInteger CLIENTS = new AtomicInteger();

  private final URI baseUrl;
  private final Supplier<String> token;
  private final Duration requestTimeout;
  private final Duration connectTimeout;
  private final ExecutorService executor;
  private final ScheduledExecutorService timer;
  private final HttpClient http;
  private final HttpClient webSockets;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private TetherClient(Builder b) {
    String url = b.baseUrl.toString();
    this.baseUrl = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    this.token = b.token;
    this.requestTimeout = b.requestTimeout;
    this.connectTimeout = b.connectTimeout;
    int n = CLIENTS.incrementAndGet();
    this.executor = Executors.newCachedThreadPool(daemon("tether-client-" + n + "-"));
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
        daemon("tether-client-" + n + "-timer-"));
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
    this.http = b.http != null ? b.http : HttpClient.newBuilder()
        .connectTimeout(connectTimeout).executor(executor).build();
    // WebSocket callbacks run inline on this client's selector thread. The JDK 17 WebSocket
    // loses the end of a connection that arrives while a listener callback runs on another
    // thread (TransportImpl.acknowledgeReception finds no demand and throws InternalError on
    // the selector thread; no onClose or onError follows). Run inline, the listener has asked
    // for the next frame before the selector thread can read the end.
    this.webSockets = HttpClient.newBuilder().connectTimeout(connectTimeout)
        .executor(Runnable::run).build();
  }

  /** A builder for a client of the node at {@code baseUrl} (e.g. {@code http://localhost:8080}). */
  public static Builder builder(URI baseUrl) {
    return new Builder(baseUrl);
  }

  /** Configures a {@link TetherClient}. */
  public static final class Builder {
    private final URI baseUrl;
    private Supplier<String> token = () -> null;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private HttpClient http;

    private Builder(URI baseUrl) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      String scheme = baseUrl.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException("the base URL is http:// or https://, not " + baseUrl);
      }
    }

    /** A fixed capability token (null: none, as a dev node needs). */
    public Builder token(String token) {
      this.token = () -> token;
      return this;
    }

    /**
     * Where to get a token for each connection and request: called again on every reconnect,
     * so a session outlives any one token (the server closes a socket whose token expires).
     */
    public Builder tokenSupplier(Supplier<String> supplier) {
      this.token = Objects.requireNonNull(supplier, "supplier");
      return this;
    }

    /** How long a request (publish, cancel, an HTTP call) waits for its answer; 30 s. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    /** The TCP connect and WebSocket handshake timeout; 10 s. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /** Use this HTTP client instead of one of the client's own (the caller then owns it). */
    public Builder httpClient(HttpClient client) {
      this.http = client;
      return this;
    }

    /** The client. */
    public TetherClient build() {
      return new TetherClient(this);
    }
  }

  /** A session over the WebSocket; configure it, then {@link TetherSession.Builder#open()}. */
  public TetherSession.Builder session(String sessionId) {
    return new TetherSession.Builder(this, sessionId);
  }

  /** An idempotent producer appending to a session over Durable Streams HTTP. */
  public IdempotentProducer.Builder producer(String sessionId) {
    return new IdempotentProducer.Builder(this, sessionId);
  }

  /** The agent's side of a session: runs, control callbacks, a producer and a socket. */
  public TetherAgent.Builder agent(String sessionId) {
    return new TetherAgent.Builder(this, sessionId);
  }

  /** Creates a session (idempotent: an existing one is described); needs {@code publish}. */
  public CompletableFuture<SessionInfo> createSession(String sessionId) {
    String body = Json.write(Json.object().put("id", sessionId));
    return send(request("/v1/sessions").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)))
        .thenApply(r -> parse(expect(r, 200, 201), SessionInfo.class));
  }

  /**
   * The session's presence, read cursors with unread counts, runs and fences
   * ({@code GET /v1/sessions/{id}}); needs {@code subscribe}.
   */
  public CompletableFuture<SessionInfo> describe(String sessionId) {
    return send(request("/v1/sessions/" + encode(sessionId)).GET())
        .thenApply(r -> parse(expect(r, 200), SessionInfo.class));
  }

  /**
   * The sessions listed under the token's subject (those it created with
   * {@link #createSession}) that it may still subscribe to ({@code GET /v1/sessions}).
   */
  public CompletableFuture<java.util.List<SessionInfo>> listSessions() {
    return send(request("/v1/sessions").GET())
        .thenApply(r -> parse(expect(r, 200), SessionList.class).sessions());
  }

  /** The body of {@code GET /v1/sessions}. */
  private record SessionList(java.util.List<SessionInfo> sessions) {
    SessionList {
      sessions = sessions == null ? java.util.List.of() : sessions;
    }
  }

  /** Closes every session, producer and agent made from this client, then its threads. */
  @Override
  public void close() {
    closed = true;
    for (AutoCloseable c : open.toArray(AutoCloseable[]::new)) {
      try {
        c.close();
      } catch (Exception e) {
        System.getLogger(TetherClient.class.getName())
            .log(System.Logger.Level.WARNING, "closing " + c + " failed", e);
      }
    }
    timer.shutdownNow();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // --- shared by sessions, producers and agents ------------------------------------------------

  URI baseUrl() {
    return baseUrl;
  }

  URI webSocketUri(String sessionId) {
    String http = baseUrl.toString();
    String ws = http.startsWith("https://") ? "wss://" + http.substring(8) : "ws://" + http.substring(7);
    return URI.create(ws + "/v1/sessions/" + encode(sessionId) + "/ws");
  }

  String token() {
    return token.get();
  }

  Duration requestTimeout() {
    return requestTimeout;
  }

  Duration connectTimeout() {
    return connectTimeout;
  }

  HttpClient http() {
    return http;
  }

  HttpClient webSockets() {
    return webSockets;
  }

  ExecutorService executor() {
    return executor;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  /** Registers something to close with the client; refused once the client is closed. */
  void track(AutoCloseable c) {
    if (closed) {
      throw new IllegalStateException("the TetherClient is closed");
    }
    open.add(c);
  }

  void untrack(AutoCloseable c) {
    open.remove(c);
  }

  HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .timeout(requestTimeout);
    String t = token.get();
    if (t != null) {
      b.header("Authorization", "Bearer " + t);
    }
    return b;
  }

  CompletableFuture<HttpResponse<String>> send(HttpRequest.Builder request) {
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The response when its status is one of {@code ok}; else the server's problem as an error. */
  static HttpResponse<String> expect(HttpResponse<String> response, int... ok) {
    for (int status : ok) {
      if (response.statusCode() == status) {
        return response;
      }
    }
    throw problem(response);
  }

  /** The error for a response that is not a success: code {@code http-NNN}, the problem's detail. */
  static TetherException problem(HttpResponse<String> response) {
    String detail = response.body();
    try {
      String d = Json.text(Json.read(response.body()), "detail");
      if (d != null) {
        detail = d;
      }
    } catch (JsonProcessingException | RuntimeException notJson) {
      // keep the raw body
    }
    return new TetherException("http-" + response.statusCode(), detail, response.statusCode(), null);
  }

  static <T> T parse(HttpResponse<String> response, Class<T> type) {
    try {
      return Json.MAPPER.readValue(response.body(), type);
    } catch (JsonProcessingException e) {
      throw new TetherException("bad-response", "unexpected body: " + e.getOriginalMessage());
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public String toString() {
    return "TetherClient[" + baseUrl + "]";
  }
}
