package io.tether.benchmarks.load.client;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The request/response half of the Durable Streams HTTP protocol, as a benchmark needs it:
 * create, append, close, and catch-up reads of streams under one base URL
 * ({@code <server>/v1/stream/}). Every call is asynchronous except {@link #read}, which a
 * catch-up loop calls in sequence anyway. Status codes are returned, never thrown, so a scenario
 * can count failures instead of dying on the first one.
 */
public final class StreamClient {
  /** Content type of JSON-mode streams (message boundaries kept, arrays flattened). */
  public static final String JSON = "application/json";
  /** Content type of byte streams. */
  public static final String BYTES = "application/octet-stream";

  private final HttpClient http;
  private final String root;
  private final URI streamsBase;
  private final Duration timeout;
  private final String bearer;

  /** {@code serverUrl} is the server root; streams live under {@code streamPath} below it. */
  public StreamClient(HttpClient http, URI serverUrl, String streamPath, Duration timeout) {
    this(http, serverUrl.toString().replaceAll("/+$", ""), streamPath, timeout, null);
  }

  private StreamClient(HttpClient http, String root, String streamPath, Duration timeout,
      String bearer) {
    this.http = http;
    this.root = root;
    String path = streamPath.startsWith("/") ? streamPath : "/" + streamPath;
    this.streamsBase = URI.create(root + (path.endsWith("/") ? path : path + "/"));
    this.timeout = timeout;
    this.bearer = bearer;
  }

  /**
   * The same client sending {@code Authorization: Bearer <token>} with every request and
   * WebSocket upgrade (a server with authentication on, such as a Tether cluster).
   */
  public StreamClient withBearer(String token) {
    return new StreamClient(http, root, streamsBase.getPath(), timeout, token);
  }

  /** The same client on another server (another node of a cluster), same token. */
  public StreamClient on(URI serverUrl) {
    return new StreamClient(http, serverUrl.toString().replaceAll("/+$", ""),
        streamsBase.getPath(), timeout, bearer);
  }

  /** The same client with another request timeout. */
  public StreamClient withTimeout(Duration requestTimeout) {
    return new StreamClient(http, root, streamsBase.getPath(), requestTimeout, bearer);
  }

  /** The server root this client talks to. */
  public URI serverUrl() {
    return URI.create(root);
  }

  /**
   * Tether's session WebSocket for a JSON stream: {@code ws://<server>/v1/sessions/<name>/ws}
   * (a session is a JSON stream; the stream must exist before the socket can follow it).
   */
  public URI sessionSocketUri(String name) {
    return URI.create(root.replaceFirst("^http", "ws") + "/v1/sessions/" + name + "/ws");
  }

  /** The bearer token, or null when the client sends none. */
  public String bearer() {
    return bearer;
  }

  /** Adds the client's credentials, if any, to a request being built. */
  public HttpRequest.Builder authorize(HttpRequest.Builder request) {
    return bearer == null ? request : request.header("Authorization", "Bearer " + bearer);
  }

  /**
   * The result of a write: the HTTP status, the {@code Stream-Next-Offset} it returned, and for
   * an answer that is not 2xx the start of its body ({@code problem}, null otherwise), so a
   * failure can say what the server said.
   */
  public record Written(int status, String nextOffset, String problem) {
    public Written(int status, String nextOffset) {
      this(status, nextOffset, null);
    }

    /** Whether the server acknowledged the write (2xx). */
    public boolean ok() {
      return status / 100 == 2;
    }

    /** {@code "HTTP 404 Stream not found"}: the status and the body's first line, shortened. */
    public String failure() {
      String line = problem == null ? "" : problem.strip().lines().findFirst().orElse("");
      if (line.length() > PROBLEM_CHARS) {
        line = line.substring(0, PROBLEM_CHARS) + "...";
      }
      return "HTTP " + status + (line.isEmpty() ? "" : " " + line);
    }
  }

  private static final int PROBLEM_CHARS = 120;

  /** One catch-up page: status, body, next offset and whether the reader is now up to date. */
  public record Page(int status, byte[] body, String nextOffset, boolean upToDate,
      boolean closed) {}

  public HttpClient http() {
    return http;
  }

  public URI streamUri(String name) {
    return streamsBase.resolve(name);
  }

  /** {@code PUT}: creates the stream (201), or confirms an identical one (200). */
  public CompletableFuture<Written> create(String name, String contentType) {
    HttpRequest request = authorize(HttpRequest.newBuilder(streamUri(name))).timeout(timeout)
        .header("Content-Type", contentType)
        .PUT(HttpRequest.BodyPublishers.noBody())
        .build();
    return send(request);
  }

  /** {@code POST}: appends one body; the server acknowledges (2xx) once it is durable. */
  public CompletableFuture<Written> append(String name, String contentType, byte[] body) {
    return append(name, contentType, body, Map.of());
  }

  /**
   * {@code POST} with extra headers, e.g. {@code Producer-Id}, {@code Producer-Epoch} and
   * {@code Producer-Seq}, which make a retried append idempotent.
   */
  public CompletableFuture<Written> append(String name, String contentType, byte[] body,
      Map<String, String> headers) {
    HttpRequest.Builder request = authorize(HttpRequest.newBuilder(streamUri(name)))
        .timeout(timeout)
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(request::header);
    return send(request.build());
  }

  /** {@code POST Stream-Closed: true}: closes the stream, which ends every live reader of it. */
  public CompletableFuture<Written> close(String name) {
    HttpRequest request = authorize(HttpRequest.newBuilder(streamUri(name))).timeout(timeout)
        .header("Stream-Closed", "true")
        .POST(HttpRequest.BodyPublishers.noBody())
        .build();
    return send(request);
  }

  /** {@code GET ?offset=}: one catch-up page from {@code offset} ({@code -1} is the start). */
  public Page read(String name, String offset) throws Exception {
    HttpRequest request = authorize(HttpRequest.newBuilder(withOffset(name, offset, null)))
        .timeout(timeout).GET().build();
    HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    return new Page(response.statusCode(), response.body(),
        response.headers().firstValue("Stream-Next-Offset").orElse(null),
        "true".equalsIgnoreCase(response.headers().firstValue("Stream-Up-To-Date").orElse("")),
        "true".equalsIgnoreCase(response.headers().firstValue("Stream-Closed").orElse("")));
  }

  /** The URI of a read from {@code offset}, live in {@code live} mode when it is not null. */
  public URI withOffset(String name, String offset, String live) {
    String query = "?offset=" + URLEncoder.encode(offset, StandardCharsets.UTF_8)
        + (live == null ? "" : "&live=" + live);
    return URI.create(streamUri(name) + query);
  }

  /** Discards the body of a 2xx answer and keeps the body of any other as text. */
  private static final HttpResponse.BodyHandler<String> PROBLEM_ONLY = info ->
      info.statusCode() / 100 == 2
          ? HttpResponse.BodySubscribers.replacing(null)
          : HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);

  private CompletableFuture<Written> send(HttpRequest request) {
    return http.sendAsync(request, PROBLEM_ONLY)
        .thenApply(r -> new Written(r.statusCode(),
            r.headers().firstValue("Stream-Next-Offset").orElse(null), r.body()));
  }
}
