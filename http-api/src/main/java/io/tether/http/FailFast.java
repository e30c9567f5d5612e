package io.tether.http;

import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.mapRouteResultFuture;
import static org.apache.pekko.http.javadsl.server.Directives.withRequestTimeout;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.TimeoutAccess;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers 503 with {@code Retry-After} within {@code tether.http.failover.ask-timeout} instead
 * of holding a request for the whole ask timeout while a cluster member is unreachable.
 *
 * <p>Between a node's crash and its removal from the cluster, the shard regions of the
 * survivors still route its shards' messages to it, and those messages are lost: a request for
 * one of its sessions would wait the full {@code tether.http.ask-timeout} (5 s) and then get a
 * 503, while the session may well be available again on a survivor by then. So while any member
 * is unreachable (this node's view of the cluster), a request that would wait for an entity gets
 * at most the failover timeout; requests for sessions on healthy nodes answer in milliseconds and
 * are not affected. Requests already in flight when a member becomes unreachable get the same
 * bound from their start, and long-polls among them are answered the same 503 at once (their
 * session may be the moved one; the client re-polls from its offset); a long-poll that arrives
 * while a member is unreachable waits for new data at most half the failover timeout ({@link
 * #longPollWait}), so its session answers 204 if it is alive and only a moving one gets the 503.
 * Once the
 * member is removed and {@code tether.http.failover.settle-time} has passed (the shard regions
 * learn of the removal a little after the membership does, and a message sent in between is
 * lost too), requests are held again, and sharding buffers them until the shard has started on
 * a survivor, so the first request after that is answered as soon as it can be.
 *
 * <p>SSE streams and WebSockets are not touched: their connection keeps going and resumes by
 * offset. This works on the request's {@link TimeoutAccess} (Pekko HTTP's request timeout), so it
 * needs no knowledge of where a shard lives; the entity's ask itself still runs to its own timeout
 * and its late reply is dropped.
 */
public final class FailFast {
  private static final Logger log = LoggerFactory.getLogger(FailFast.class);

  private final BooleanSupplier allReachable;
  private final Duration timeout;
  private final String retryAfterSeconds;
  /** Requests in flight that wait for an entity. */
  private final Map<TimeoutAccess, Waiting> waiting = new ConcurrentHashMap<>();
  /** Past this a waiting entry is stale (a safety net: every route result removes its entry). */
  private static final long STALE_NANOS = Duration.ofMinutes(10).toNanos();
  private volatile boolean settled = true;
  /** How long after the last unreachable member requests are still bounded. */
  private final long settleNanos;
  private volatile long lastUnreachable = Long.MIN_VALUE / 2;

  /** Watches {@code system}'s cluster membership every {@code tether.http.failover.check-interval}. */
  public FailFast(ActorSystem<?> system) {
    this(system, () -> Cluster.get(system).state().getUnreachable().isEmpty());
  }

  /** With another view of reachability (tests). */
  FailFast(ActorSystem<?> system, BooleanSupplier allReachable) {
    Config config = system.settings().config();
    this.allReachable = allReachable;
    this.timeout = config.getDuration("tether.http.failover.ask-timeout");
    this.retryAfterSeconds = Long.toString(
        Math.max(1, config.getDuration("tether.streams.retry-after").toSeconds()));
    this.settleNanos = config.getDuration("tether.http.failover.settle-time").toNanos();
    Duration interval = config.getDuration("tether.http.failover.check-interval");
    system.scheduler().scheduleAtFixedRate(interval, interval, this::check, system.executionContext());
  }

  /** Whether this node sees every member reachable. */
  public boolean settled() {
    long now = System.nanoTime();
    if (!allReachable.getAsBoolean()) {
      lastUnreachable = now;
      return false;
    }
    return now - lastUnreachable >= settleNanos;
  }

  /**
   * How long a long-poll may wait for new data: {@code configured}, or, while requests are bounded
   * (a member unreachable, or within the settle time after), half the failover timeout. A session
   * that is alive then answers "nothing new" (204) before this guard's 503, which only a session
   * that does not answer at all (the one moving off the lost node) gets: before, every long-poll
   * on the node got a 503 for the whole failover, its session healthy or not.
   */
  public Duration longPollWait(Duration configured) {
    if (settled()) {
      return configured;
    }
    Duration bounded = timeout.dividedBy(2);
    return configured.compareTo(bounded) < 0 ? configured : bounded;
  }

  /** {@code inner}, failing fast while a member is unreachable. */
  public Route guard(Route inner) {
    return extractRequest(request -> {
      String live = request.getUri().query().get("live").orElse("");
      boolean webSocket = request.getHeader("Upgrade")
          .map(h -> h.value().toLowerCase(java.util.Locale.ROOT).contains("websocket")).orElse(false);
      if (live.equals("sse") || webSocket) {
        return inner;
      }
      if (!settled()) {
        return withRequestTimeout(timeout, this::unavailable, () -> inner);
      }
      Optional<TimeoutAccess> access =
          request.getHeader(org.apache.pekko.http.javadsl.model.headers.TimeoutAccess.class)
              .map(org.apache.pekko.http.javadsl.model.headers.TimeoutAccess::timeoutAccess);
      if (access.isEmpty()) {
        return inner;
      }
      TimeoutAccess held = access.get();
      waiting.put(held, new Waiting(System.nanoTime(), !live.isEmpty()));
      // Completed, rejected (another route's path) or failed: it no longer waits here.
      return mapRouteResultFuture(result -> result.whenComplete((r, e) -> waiting.remove(held)),
          () -> inner);
    });
  }

  /** How many guarded requests are in flight (tests). */
  int inFlight() {
    return waiting.size();
  }

  /** A request in flight: when it arrived (System.nanoTime()) and whether it is a long-poll. */
  private record Waiting(long arrived, boolean longPoll) {}

  /** Drops stale entries, then acts on a change of reachability. */
  private void check() {
    long stale = System.nanoTime() - STALE_NANOS;
    waiting.values().removeIf(w -> w.arrived() < stale);
    changed(settled());
  }

  /** Acts on a change of reachability: {@code now} is whether every member is reachable. */
  void changed(boolean now) {
    if (now == settled) {
      return;
    }
    settled = now;
    if (now) {
      log.info("Every cluster member is reachable again; requests wait for entities as usual");
      return;
    }
    log.warn("A cluster member is unreachable: requests that would wait for an entity answer 503 "
        + "within {} ({} in flight now)", timeout, waiting.size());
    long nanos = System.nanoTime();
    waiting.forEach((access, w) -> {
      Duration elapsed = Duration.ofNanos(Math.max(1, nanos - w.arrived()));
      // A long-poll is answered now; any other request gets the failover timeout from its start.
      Duration bound = w.longPoll() || elapsed.compareTo(timeout) > 0 ? elapsed : timeout;
      access.update(bound, this::unavailable);
      waiting.remove(access);
    });
  }

  private HttpResponse unavailable(HttpRequest request) {
    HttpResponse response = Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
            "A cluster member is unreachable and this session may be moving to another node; retry")
        .addHeader(RawHeader.create("Retry-After", retryAfterSeconds));
    return request.getUri().path().startsWith("/v1/stream/")
        ? io.tether.http.streams.DurableStreamsRoutes.secured(response) : response;
  }
}
