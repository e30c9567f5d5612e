package io.tether.http.streams;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractUnmatchedPath;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.reject;
import static org.apache.pekko.http.javadsl.server.Directives.withSizeLimit;

import com.typesafe.config.Config;
import io.tether.actors.session.MediaTypes;
import io.tether.actors.session.Offset;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import io.tether.actors.session.Session.AlreadyExists;
import io.tether.actors.session.Session.AppendRejected;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.CreateConflict;
import io.tether.actors.session.Session.CreateReply;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import io.tether.actors.session.Session.ForkFailed;
import io.tether.actors.session.Session.ForkRequest;
import io.tether.actors.session.Session.ReadReply;
import io.tether.actors.session.Session.ReadRejected;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import io.tether.actors.session.SessionStreams;
import io.tether.actors.session.StreamInfo;
import io.tether.http.Problem;
import io.tether.http.live.EnvelopeRules;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Durable Streams HTTP protocol under {@code /v1/stream/<id>}: create (PUT, including
 * forks), append and close (POST), delete, metadata (HEAD), catch-up reads, long-poll and SSE,
 * with JSON mode, idempotent producers, TTL and Expires-At, ETags and cursors.
 *
 * <p>This class is only the wire layer: it validates headers and bodies (malformed input is a
 * 400 problem body), maps them to {@link Session} messages through {@link SessionStreams}, and
 * maps the replies back to status codes and headers. Limits answer 413 (body too large), 429
 * with {@code Retry-After} (a full group-commit buffer) and 503 with {@code Retry-After} (a
 * failed journal write, an unavailable entity); nothing answers 500 by design.
 *
 * <p>Over 600 lines because it is the whole of one protocol's wire mapping: every verb with its
 * headers and status codes, read side by side against the Durable Streams specification. The
 * parts with a job of their own already live apart: SSE in {@link SseReads}, stream names and
 * fork sources in {@link StreamNames}, JSON mode in {@link JsonMessages}, cursors in {@link
 * StreamCursor}.
 */
public final class DurableStreamsRoutes {
  private static final Logger log = LoggerFactory.getLogger(DurableStreamsRoutes.class);
  private static final String PREFIX = "/v1/stream/";

  private final SessionStreams streams;
  private final SseReads sseReads;
  private final Materializer materializer;
  private final Duration longPollTimeout;
  private final UnaryOperator<Duration> longPollWait;
  private final Duration sseWait;
  private final Duration sseMaxDuration;
  private final long maxAppendBytes;
  private final Duration bodyTimeout;
  private final long retryAfterSeconds;
  private final String dataCacheControl;
  private final int maxNameLength;

  /** Routes on {@code system}, reaching streams through {@code streams}; long-polls wait in full. */
  public DurableStreamsRoutes(ActorSystem<?> system, SessionStreams streams) {
    this(system, streams, UnaryOperator.identity());
  }

  /**
   * Routes on {@code system}, reaching streams through {@code streams}; a long-poll waits for
   * new data {@code longPollWait} of {@code tether.streams.long-poll-timeout} (the node's {@link
   * io.tether.http.FailFast#longPollWait}: shorter during a failover).
   */
  public DurableStreamsRoutes(ActorSystem<?> system, SessionStreams streams,
      UnaryOperator<Duration> longPollWait) {
    Config config = system.settings().config();
    this.streams = streams;
    this.longPollWait = longPollWait;
    this.materializer = Materializer.matFromSystem(system);
    Config c = config.getConfig("tether.streams");
    this.longPollTimeout = c.getDuration("long-poll-timeout");
    this.sseWait = c.getDuration("sse-wait");
    this.sseMaxDuration = c.getDuration("sse-max-duration");
    this.maxAppendBytes = c.getBytes("max-append-bytes");
    this.bodyTimeout = c.getDuration("body-read-timeout");
    this.retryAfterSeconds = Math.max(1, c.getDuration("retry-after").toSeconds());
    this.dataCacheControl = c.getString("data-cache-control");
    this.maxNameLength = c.getInt("max-name-length");
    this.sseReads = new SseReads(system, streams, sseWait, sseMaxDuration, this::readRejected,
        () -> unavailable("The stream could not be read"));
  }

  /** The protocol's routes. */
  public Route route() {
    return pathPrefix("v1", () -> pathPrefix("stream", () -> extractUnmatchedPath(rest -> {
      String id = rest.startsWith("/") ? rest.substring(1) : rest;
      if (id.isEmpty()) {
        return reject();
      }
      Optional<String> badName = StreamNames.refusal(id, maxNameLength);
      if (badName.isPresent()) {
        return complete(secured(problem(StatusCodes.BAD_REQUEST, badName.get())));
      }
      return withSizeLimit(maxAppendBytes, () -> extractRequest(request ->
          completeWithFuture(handle(id, request)
              .exceptionally(this::failure)
              .thenApply(DurableStreamsRoutes::secured))));
    })));
  }

  private CompletionStage<HttpResponse> handle(String id, HttpRequest request) {
    String method = request.method().name();
    switch (method) {
      case "PUT":
        return body(request).thenCompose(body -> create(id, request, body));
      case "POST":
        return body(request).thenCompose(body -> append(id, request, body));
      case "GET":
        return read(id, request);
      case "HEAD":
        return head(id);
      case "DELETE":
        return delete(id);
      case "OPTIONS":
        return done(preflight());
      default:
        return done(problem(StatusCodes.METHOD_NOT_ALLOWED, "Use PUT, POST, GET, HEAD or DELETE"));
    }
  }

  // --- create ----------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> create(String id, HttpRequest request, byte[] body) {
    Optional<String> ttlHeader = header(request, StreamHeaders.TTL);
    Optional<String> expiresHeader = header(request, StreamHeaders.EXPIRES_AT);
    if (ttlHeader.isPresent() && expiresHeader.isPresent()) {
      return done(problem(StatusCodes.BAD_REQUEST,
          "Stream-TTL and Stream-Expires-At are mutually exclusive"));
    }
    Long ttl = null;
    if (ttlHeader.isPresent()) {
      Optional<Long> parsed = StreamHeaders.nonNegativeInteger(ttlHeader.get());
      if (parsed.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Stream-TTL must be a non-negative integer number of seconds"));
      }
      ttl = parsed.get();
    }
    Long expiresMillis = null;
    if (expiresHeader.isPresent()) {
      Optional<Long> parsed = StreamHeaders.rfc3339(expiresHeader.get());
      if (parsed.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Stream-Expires-At must be an RFC 3339 timestamp"));
      }
      expiresMillis = parsed.get();
    }
    Optional<String> forkedFrom = header(request, StreamHeaders.FORKED_FROM);
    Optional<String> forkOffset = header(request, StreamHeaders.FORK_OFFSET);
    Optional<String> subOffsetHeader = header(request, StreamHeaders.FORK_SUB_OFFSET);
    ForkRequest fork = null;
    if (forkedFrom.isEmpty()) {
      if (forkOffset.isPresent() || subOffsetHeader.isPresent()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Stream-Fork-Offset and Stream-Fork-Sub-Offset need Stream-Forked-From"));
      }
    } else {
      Optional<String> source = StreamNames.forkSource(forkedFrom.get());
      if (source.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST, "Stream-Forked-From names no stream"));
      }
      String sourceId = source.get();
      Optional<String> badSource = StreamNames.refusal(sourceId, maxNameLength);
      if (badSource.isPresent()) {
        return done(problem(StatusCodes.BAD_REQUEST, "Stream-Forked-From: " + badSource.get()));
      }
      if (forkOffset.isPresent() && Offset.parse(forkOffset.get()).isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST, "Stream-Fork-Offset is not an offset"));
      }
      long subOffset = 0;
      if (subOffsetHeader.isPresent()) {
        Optional<Long> parsed = StreamHeaders.nonNegativeInteger(subOffsetHeader.get());
        if (parsed.isEmpty()) {
          return done(problem(StatusCodes.BAD_REQUEST,
              "Stream-Fork-Sub-Offset must be a non-negative integer"));
        }
        subOffset = parsed.get();
      }
      if (subOffset > 0 && forkOffset.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Stream-Fork-Sub-Offset needs Stream-Fork-Offset"));
      }
      fork = new ForkRequest(sourceId, forkOffset.orElse(null), subOffset);
    }
    String contentType = requestContentType(request);
    if (contentType == null && fork == null) {
      contentType = "application/octet-stream";
    }
    List<byte[]> items;
    if (body.length == 0) {
      items = List.of();
    } else if (contentType != null && MediaTypes.isJson(contentType)) {
      String[] refusal = new String[1];
      Optional<List<byte[]>> messages = JsonMessages.split(body, DurableStreamsRoutes::eventRefusal,
          r -> refusal[0] = r);
      if (messages.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST, "The body is not valid JSON"));
      }
      if (refusal[0] != null) {
        return done(problem(StatusCodes.BAD_REQUEST, "A session event is not valid: "
            + refusal[0]));
      }
      items = messages.get();
    } else {
      items = List.of(body);
    }
    boolean closed = StreamHeaders.isTrue(header(request, StreamHeaders.CLOSED));
    CreateSpec spec = new CreateSpec(contentType, ttl, expiresHeader.orElse(null), expiresMillis,
        closed, items, fork, null, List.of());
    return streams.create(id, spec).thenApply(reply -> created(request, reply));
  }

  private HttpResponse created(HttpRequest request, CreateReply reply) {
    if (reply instanceof Created created) {
      return metadata(HttpResponse.create().withStatus(StatusCodes.CREATED), created.info())
          .addHeader(RawHeader.create("Location", absolute(request.getUri())));
    }
    if (reply instanceof AlreadyExists exists) {
      return metadata(HttpResponse.create().withStatus(StatusCodes.OK), exists.info());
    }
    if (reply instanceof CreateConflict conflict) {
      return problem(StatusCodes.CONFLICT, conflict.detail());
    }
    if (reply instanceof ForkFailed failed) {
      return switch (failed.failure()) {
        case NOT_FOUND -> problem(StatusCodes.NOT_FOUND, "The fork source does not exist");
        case SOFT_DELETED -> problem(StatusCodes.CONFLICT, "The fork source has been deleted");
        case CONTENT_TYPE_MISMATCH -> problem(StatusCodes.CONFLICT,
            "Content-Type differs from the fork source's");
        case OFFSET_BEYOND_TAIL -> problem(StatusCodes.BAD_REQUEST,
            "Stream-Fork-Offset is past the source's tail");
        case SUB_OFFSET_OVERSHOOT -> problem(StatusCodes.BAD_REQUEST,
            "Stream-Fork-Sub-Offset is past the next data boundary");
      };
    }
    return unavailable("The stream could not be created");
  }

  private static HttpResponse metadata(HttpResponse response, StreamInfo info) {
    List<HttpHeader> headers = new ArrayList<>();
    headers.add(RawHeader.create(StreamHeaders.NEXT_OFFSET, info.tail().encode()));
    if (info.closed()) {
      headers.add(RawHeader.create(StreamHeaders.CLOSED, "true"));
    }
    if (info.ttlSeconds() != null) {
      headers.add(RawHeader.create(StreamHeaders.TTL, Long.toString(info.ttlSeconds())));
    }
    if (info.expiresAt() != null) {
      headers.add(RawHeader.create(StreamHeaders.EXPIRES_AT, info.expiresAt()));
    }
    return response.addHeaders(headers)
        .withEntity(HttpEntities.create(contentTypeOf(info.contentType()), new byte[0]));
  }

  // --- append ----------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> append(String id, HttpRequest request, byte[] body) {
    boolean close = StreamHeaders.isTrue(header(request, StreamHeaders.CLOSED));
    if (body.length == 0 && !close) {
      return done(problem(StatusCodes.BAD_REQUEST,
          "An append needs a body (or Stream-Closed: true to close)"));
    }
    Optional<String> producerId = header(request, StreamHeaders.PRODUCER_ID);
    Optional<String> epochHeader = header(request, StreamHeaders.PRODUCER_EPOCH);
    Optional<String> seqHeader = header(request, StreamHeaders.PRODUCER_SEQ);
    ProducerTuple producer = null;
    if (producerId.isPresent() || epochHeader.isPresent() || seqHeader.isPresent()) {
      if (producerId.isEmpty() || epochHeader.isEmpty() || seqHeader.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Producer-Id, Producer-Epoch and Producer-Seq go together"));
      }
      Optional<Long> epoch = StreamHeaders.nonNegativeInteger(epochHeader.get());
      Optional<Long> seq = StreamHeaders.nonNegativeInteger(seqHeader.get());
      if (producerId.get().isEmpty() || epoch.isEmpty() || seq.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST,
            "Producer-Id must be non-empty; Producer-Epoch and Producer-Seq non-negative integers"));
      }
      producer = new ProducerTuple(producerId.get(), epoch.get(), seq.get());
    }
    String contentType = null;
    List<byte[]> items = List.of();
    if (body.length > 0) {
      contentType = requestContentType(request);
      if (contentType == null) {
        return done(problem(StatusCodes.BAD_REQUEST, "An append with a body needs Content-Type"));
      }
      if (MediaTypes.isJson(contentType)) {
        String[] refusal = new String[1];
        Optional<List<byte[]>> messages = JsonMessages.split(body,
            DurableStreamsRoutes::eventRefusal, r -> refusal[0] = r);
        if (messages.isEmpty()) {
          return done(problem(StatusCodes.BAD_REQUEST, "The body is not valid JSON"));
        }
        if (refusal[0] != null) {
          return done(problem(StatusCodes.BAD_REQUEST, "A session event is not valid: "
              + refusal[0]));
        }
        if (messages.get().isEmpty()) {
          return done(problem(StatusCodes.BAD_REQUEST, "An empty JSON array appends nothing"));
        }
        items = messages.get();
      } else {
        items = List.of(body);
      }
    }
    Optional<String> streamSeq = header(request, StreamHeaders.SEQ);
    AppendSpec spec = new AppendSpec(contentType, items, producer, streamSeq.orElse(null), close);
    boolean hasData = !items.isEmpty();
    boolean maybeMissingType = "application/octet-stream".equals(MediaTypes.essence(contentType));
    return streams.append(id, spec).thenApply(reply -> appended(reply, hasData, maybeMissingType));
  }

  private HttpResponse appended(AppendReply reply, boolean hasData, boolean maybeMissingType) {
    if (reply instanceof Appended ok) {
      boolean fresh = ok.producerEpoch() != null && !ok.duplicate() && hasData;
      HttpResponse response = HttpResponse.create()
          .withStatus(fresh ? StatusCodes.OK : StatusCodes.NO_CONTENT)
          .addHeader(RawHeader.create(StreamHeaders.NEXT_OFFSET, ok.next().encode()));
      if (ok.closed()) {
        response = response.addHeader(RawHeader.create(StreamHeaders.CLOSED, "true"));
      }
      if (ok.producerEpoch() != null) {
        response = response
            .addHeader(RawHeader.create(StreamHeaders.PRODUCER_EPOCH, ok.producerEpoch().toString()))
            .addHeader(RawHeader.create(StreamHeaders.PRODUCER_SEQ, ok.producerSeq().toString()));
      }
      return response;
    }
    AppendRejected rejected = (AppendRejected) reply;
    return switch (rejected.failure()) {
      case NOT_FOUND -> problem(StatusCodes.NOT_FOUND, "No stream at this URL");
      case GONE -> problem(StatusCodes.GONE, "The stream has been deleted");
      case CLOSED -> problem(StatusCodes.CONFLICT, "The stream is closed")
          .addHeader(RawHeader.create(StreamHeaders.CLOSED, "true"))
          .addHeader(RawHeader.create(StreamHeaders.NEXT_OFFSET, rejected.tail().encode()));
      case CONTENT_TYPE_MISMATCH -> maybeMissingType
          // Pekko HTTP reports a missing Content-Type as application/octet-stream, so an
          // octet-stream body sent to a stream of another type is most likely untyped: 400.
          ? problem(StatusCodes.BAD_REQUEST,
              "Content-Type is missing or differs from the stream's")
          : problem(StatusCodes.CONFLICT, "Content-Type differs from the stream's");
      case STREAM_SEQ_REGRESSION -> problem(StatusCodes.CONFLICT,
          "Stream-Seq must increase (byte-wise lexicographic order, per stream)");
      case STALE_EPOCH -> problem(StatusCodes.FORBIDDEN, "Stale producer epoch")
          .addHeader(RawHeader.create(StreamHeaders.PRODUCER_EPOCH,
              rejected.producerEpoch().toString()));
      case SEQUENCE_GAP -> problem(StatusCodes.CONFLICT, "Producer sequence gap")
          .addHeader(RawHeader.create(StreamHeaders.PRODUCER_EXPECTED_SEQ,
              rejected.expectedSeq().toString()))
          .addHeader(RawHeader.create(StreamHeaders.PRODUCER_RECEIVED_SEQ,
              rejected.receivedSeq().toString()));
      case INVALID_EPOCH_SEQ -> problem(StatusCodes.BAD_REQUEST,
          "A new producer epoch must start at Producer-Seq 0");
      case OVERLOADED -> tooManyRequests(
          "The stream is taking appends faster than it can persist them");
      case JOURNAL_UNAVAILABLE -> unavailable(
          "The stream could not persist the append; nothing of it was stored");
      case FENCED -> problem(StatusCodes.CONFLICT,
          "Output for a run that was cancelled or lost is refused (the session holds its fence)");
      case RESERVED_TYPE -> problem(StatusCodes.BAD_REQUEST, "presence.* and control.cancel/"
          + "steer/interrupt events are written by the session; use its control API");
    };
  }

  // --- read ------------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> read(String id, HttpRequest request) {
    List<String> offsets = request.getUri().query().getAll("offset");
    if (offsets.size() > 1) {
      return done(problem(StatusCodes.BAD_REQUEST, "Give one offset"));
    }
    Optional<String> live = request.getUri().query().get("live");
    if (live.isPresent() && !live.get().equals("long-poll") && !live.get().equals("sse")) {
      return done(problem(StatusCodes.BAD_REQUEST, "live must be long-poll or sse"));
    }
    if (live.isPresent() && offsets.isEmpty()) {
      return done(problem(StatusCodes.BAD_REQUEST, "Live reads need an offset"));
    }
    Offset from = null;
    boolean fromTail = false;
    String offsetText = offsets.isEmpty() ? "-1" : offsets.get(0);
    if (offsetText.equals("now")) {
      fromTail = true;
    } else if (!offsetText.equals("-1")) {
      Optional<Offset> parsed = Offset.parse(offsetText);
      if (parsed.isEmpty()) {
        return done(problem(StatusCodes.BAD_REQUEST, "Malformed offset"));
      }
      from = parsed.get();
    }
    String cursor = StreamCursor.next(request.getUri().query().get("cursor").orElse(null));
    if (live.isPresent() && live.get().equals("sse")) {
      return sseReads.open(id, from, fromTail, cursor);
    }
    boolean longPoll = live.isPresent();
    long wait = longPoll ? longPollWait.apply(longPollTimeout).toMillis() : 0;
    ReadSpec spec = new ReadSpec(from, fromTail, null, streams.maxReadBytes(), wait, false);
    Optional<String> ifNoneMatch = header(request, "If-None-Match");
    String fromText = offsetText;
    boolean now = fromTail;
    return streams.read(id, spec).thenApply(reply ->
        readResponse(id, reply, fromText, now, longPoll, cursor, ifNoneMatch));
  }

  private HttpResponse readResponse(String id, ReadReply reply, String fromText, boolean now,
      boolean longPoll, String cursor, Optional<String> ifNoneMatch) {
    if (reply instanceof ReadRejected rejected) {
      return readRejected(rejected);
    }
    if (!(reply instanceof ReadResult result)) {
      return unavailable("The stream could not be read");
    }
    StreamInfo info = result.info();
    List<HttpHeader> headers = new ArrayList<>();
    headers.add(RawHeader.create(StreamHeaders.NEXT_OFFSET, result.next().encode()));
    if (result.upToDate()) {
      headers.add(RawHeader.create(StreamHeaders.UP_TO_DATE, "true"));
    }
    if (result.closed()) {
      headers.add(RawHeader.create(StreamHeaders.CLOSED, "true"));
    } else if (longPoll) {
      headers.add(RawHeader.create(StreamHeaders.CURSOR, cursor));
    }
    if (longPoll && result.items().isEmpty()) {
      headers.add(RawHeader.create("Cache-Control", "no-store"));
      return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT).addHeaders(headers);
    }
    if (!now) {
      String etag = "\"" + id.replace("\"", "") + ":" + fromText + ":" + result.next().encode()
          + (result.closed() ? ":c" : "") + "\"";
      headers.add(RawHeader.create("ETag", etag));
      if (ifNoneMatch.isPresent() && ifNoneMatch.get().equals(etag)) {
        return HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED).addHeaders(headers);
      }
    }
    headers.add(RawHeader.create("Cache-Control",
        result.items().isEmpty() ? "no-store" : dataCacheControl));
    byte[] body = MediaTypes.isJson(info.contentType())
        ? JsonMessages.asArray(result.items()) : JsonMessages.concat(result.items());
    return HttpResponse.create().withStatus(StatusCodes.OK).addHeaders(headers)
        .withEntity(HttpEntities.create(contentTypeOf(info.contentType()), body));
  }

  private HttpResponse readRejected(ReadRejected rejected) {
    return switch (rejected.failure()) {
      case NOT_FOUND -> problem(StatusCodes.NOT_FOUND, "No stream at this URL");
      case GONE -> problem(StatusCodes.GONE, "The stream has been deleted");
      case OFFSET_BEYOND_TAIL -> problem(StatusCodes.BAD_REQUEST, "The offset is past the tail");
    };
  }

  // --- head, delete, preflight -----------------------------------------------------------------

  private CompletionStage<HttpResponse> head(String id) {
    return streams.describe(id).thenApply(described -> switch (described.lookup()) {
      case FOUND -> metadata(HttpResponse.create().withStatus(StatusCodes.OK), described.info())
          .addHeader(RawHeader.create("Cache-Control", "no-store"));
      case GONE -> HttpResponse.create().withStatus(StatusCodes.GONE);
      case NOT_FOUND -> HttpResponse.create().withStatus(StatusCodes.NOT_FOUND);
    });
  }

  private CompletionStage<HttpResponse> delete(String id) {
    return streams.delete(id).thenApply(deleted -> switch (deleted.lookup()) {
      case FOUND -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
      case GONE -> problem(StatusCodes.GONE, "The stream has been deleted");
      case NOT_FOUND -> problem(StatusCodes.NOT_FOUND, "No stream at this URL");
    });
  }

  private static HttpResponse preflight() {
    return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)
        .addHeader(RawHeader.create("Access-Control-Allow-Methods",
            "GET, HEAD, PUT, POST, DELETE, OPTIONS"))
        .addHeader(RawHeader.create("Access-Control-Allow-Headers", StreamHeaders.ALLOWED))
        .addHeader(RawHeader.create("Access-Control-Max-Age", "600"));
  }

  // --- helpers ---------------------------------------------------------------------------------

  private CompletionStage<byte[]> body(HttpRequest request) {
    if (request.entity() instanceof HttpEntity.Strict strict) {
      // Most appends arrive whole: no stream to materialize and no asynchronous hop.
      return CompletableFuture.completedFuture(strict.getData().toArray());
    }
    // The limit is the stream's own: toStrict's default (pekko.http.parsing.max-to-strict-bytes,
    // 8 MiB) would refuse a body that max-append-bytes allows.
    return request.entity().toStrict(bodyTimeout.toMillis(), maxAppendBytes, materializer)
        .thenApply(strict -> strict.getData().toArray());
  }

  private HttpResponse failure(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    for (Throwable t = cause; t != null; t = t.getCause()) {
      boolean tooLarge = t.getClass().getSimpleName().equals("EntityStreamSizeException")
          || (t.getClass().getSimpleName().startsWith("EntityStream")
              && String.valueOf(t.getMessage()).contains("too large"));
      if (tooLarge) {
        return problem(StatusCodes.CONTENT_TOO_LARGE,
            "The body exceeds tether.streams.max-append-bytes (" + maxAppendBytes + " bytes)");
      }
    }
    log.warn("A Durable Streams request failed: {}", cause.toString());
    return unavailable("The stream did not answer in time; retry");
  }

  private HttpResponse unavailable(String detail) {
    return problem(StatusCodes.SERVICE_UNAVAILABLE, detail)
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds)));
  }

  /** A producer outpaces the stream's journal writes: back off and retry (nothing was stored). */
  private HttpResponse tooManyRequests(String detail) {
    return problem(StatusCodes.TOO_MANY_REQUESTS, detail)
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds)));
  }

  private static HttpResponse problem(StatusCode status, String detail) {
    return Problem.response(status, detail);
  }

  /**
   * The headers every Durable Streams response carries (no sniffing, CORS for browser clients),
   * also on answers made outside these routes (a fail-fast 503), so a browser client sees the
   * status instead of an opaque network error.
   */
  public static HttpResponse secured(HttpResponse response) {
    return response.addHeaders(List.of(
        RawHeader.create("X-Content-Type-Options", "nosniff"),
        RawHeader.create("Cross-Origin-Resource-Policy", "cross-origin"),
        RawHeader.create("Access-Control-Allow-Origin", "*"),
        RawHeader.create("Access-Control-Expose-Headers", StreamHeaders.EXPOSED)));
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  /** The request's content type, or null when it sent none. */
  private static String requestContentType(HttpRequest request) {
    ContentType type = request.entity().getContentType();
    if (type.equals(ContentTypes.NO_CONTENT_TYPE)) {
      return null;
    }
    return type.toString();
  }

  private static ContentType contentTypeOf(String contentType) {
    if (contentType == null) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
    try {
      return ContentTypes.parse(contentType);
    } catch (RuntimeException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }

  private static String absolute(Uri uri) {
    int port = uri.port();
    String authority = uri.host().address() + (port > 0 ? ":" + port : "");
    return uri.scheme() + "://" + authority + uri.path();
  }

  /**
   * Why a JSON item may not enter a stream: only an item claiming a core session event type is
   * checked, with the rules of a WebSocket publish ({@link EnvelopeRules}).
   */
  private static String eventRefusal(com.fasterxml.jackson.databind.JsonNode item) {
    EnvelopeRules.Problem p = EnvelopeRules.checkAppended(item);
    return p == null ? null : p.code() + ": " + p.detail();
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
