package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.handleWebSocketMessages;
import static org.apache.pekko.http.javadsl.server.Directives.mapRouteResultFuture;
import static org.apache.pekko.http.javadsl.server.Directives.onComplete;

import com.typesafe.config.Config;
import io.tether.actors.quota.CreationQuota;
import io.tether.http.Problem;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.server.Complete;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * Per-token quotas, each answered with {@code 429}, {@code Retry-After} and a problem body (or,
 * inside a WebSocket, a {@code rate-limited} error frame that leaves the socket usable). The
 * limits come from {@code tether.auth.quotas}, overridden per token by its {@code quotas} claim
 * ({@link Quotas}). Where each is counted, and why:
 *
 * <ul>
 *   <li><b>Sessions created: cluster-wide and durable</b>, in a {@link CreationQuota} entity
 *       sharded by the token's id. A per-node count would let a token create {@code limit} on
 *       every node, and an in-memory one would forget it when a node dies. It costs one journal
 *       write per new session (creation already writes), and the count lives as long as the token:
 *       a new token starts a new count, which is why issuing tokens is the operator's.
 *   <li><b>Open WebSockets: per node, in memory.</b> A socket's cost (memory, a connection
 *       actor) is paid by the node holding it, and a node's count dies with its sockets, so
 *       nothing leaks on a crash. A token can hold {@code limit} sockets on each node.
 *   <li><b>Append rate: per node, in memory</b> (a token bucket, {@link AppendRates}). Appends
 *       are the hot path; a cluster-wide count would put a network round trip on every one. A
 *       token spread over {@code n} nodes may append {@code n} times the rate; the
 *       per-session group commit and the journal's own back-pressure still bound each session.
 * </ul>
 *
 * With authentication off (dev mode) nothing is limited.
 */
public final class TokenQuotas {
  private final boolean enabled;
  private final Quotas defaults;
  private final Duration socketRetryAfter;
  private final Duration askTimeout;
  private final ClusterSharding sharding;
  private final ConcurrentHashMap<String, Integer> sockets = new ConcurrentHashMap<>();
  private final AppendRates appends = new AppendRates(System::nanoTime);

  private TokenQuotas(boolean enabled, Quotas defaults, Duration socketRetryAfter,
      Duration askTimeout, ClusterSharding sharding) {
    this.enabled = enabled;
    this.defaults = defaults;
    this.socketRetryAfter = socketRetryAfter;
    this.askTimeout = askTimeout;
    this.sharding = sharding;
  }

  /** No quotas: authentication is off. */
  static TokenQuotas unlimited() {
    return new TokenQuotas(false, null, null, null, null);
  }

  /**
   * Quotas from {@code tether.auth.quotas}. Registers the {@link CreationQuota} entity type: the
   * guard owns the entity it counts in, so every node that serves the API hosts its shards.
   */
  static TokenQuotas fromConfig(ActorSystem<?> system) {
    Config config = system.settings().config();
    Config quotas = config.getConfig("tether.auth.quotas");
    CreationQuota.init(system);
    return new TokenQuotas(true, Quotas.fromConfig(quotas),
        quotas.getDuration("socket-retry-after"), config.getDuration("tether.http.ask-timeout"),
        ClusterSharding.get(system));
  }

  /** The limits {@code principal} works under. */
  public Quotas limitsOf(Principal principal) {
    return principal.quotas().orElse(defaults);
  }

  /**
   * Runs {@code inner}, which creates {@code sessionId}, if the token may create one more
   * session. The creation is reserved first and given back, before the client gets its answer,
   * unless {@code inner} answers {@code 201 Created}: an existing session, a refusal or a failure
   * costs nothing. (If the give-back itself fails, the place stays taken: the count errs on the
   * side of the limit.)
   */
  public Route creating(Principal principal, String sessionId, Supplier<Route> inner) {
    if (!enabled) {
      return inner.get();
    }
    int limit = limitsOf(principal).sessionsCreated();
    EntityRef<CreationQuota.Command> quota =
        sharding.entityRefFor(CreationQuota.ENTITY_TYPE_KEY, principal.tokenId());
    return onComplete(quota.<CreationQuota.Reservation>ask(
        replyTo -> new CreationQuota.Reserve(sessionId, limit, replyTo), askTimeout), reserved -> {
          if (reserved.isFailure()) {
            return complete(Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
                    "the token's session quota could not be checked in time; retry")
                .addHeader(RawHeader.create("Retry-After", "1")));
          }
          if (reserved.get() instanceof CreationQuota.Exhausted exhausted) {
            return complete(tooMany(secondsUntil(principal.expiresAt()), "this token has "
                + "created its " + exhausted.limit() + " sessions (tether.auth.quotas."
                + "sessions-created, or the token's quotas claim); a new token starts a new count"));
          }
          if (!((CreationQuota.Reserved) reserved.get()).fresh()) {
            return inner.get();
          }
          // The client sees the answer only once the reservation is given back, so its next
          // create (on any node) finds the place free.
          return mapRouteResultFuture(done -> done.handle((result, error) -> {
            boolean created = error == null && result instanceof Complete complete
                && complete.getResponse().status().equals(StatusCodes.CREATED);
            if (created) {
              return CompletableFuture.completedFuture(result);
            }
            return quota.<Done>ask(replyTo -> new CreationQuota.Release(sessionId, replyTo),
                    askTimeout)
                .handle((d, releaseError) -> {
                  if (error != null) {
                    throw error instanceof CompletionException c ? c : new CompletionException(error);
                  }
                  return result;
                });
          }).thenCompose(stage -> stage), inner);
        });
  }

  /**
   * Upgrades to the WebSocket {@code flow} if the token holds fewer open sockets on this node
   * than its limit; the place is given back when the socket's flow ends.
   */
  public Route socket(Principal principal, Supplier<Flow<Message, Message, NotUsed>> flow) {
    if (!enabled) {
      return handleWebSocketMessages(flow.get());
    }
    return extractRequest(request -> {
      if (request.getAttribute(AttributeKeys.webSocketUpgrade).isEmpty()) {
        return handleWebSocketMessages(flow.get()); // not an upgrade: refused by the directive
      }
      String token = principal.tokenId();
      int limit = limitsOf(principal).openSockets();
      boolean[] admitted = {false};
      sockets.compute(token, (id, open) -> {
        int now = open == null ? 0 : open;
        admitted[0] = now < limit;
        return admitted[0] ? now + 1 : open;
      });
      if (!admitted[0]) {
        return complete(tooMany(Math.max(1, socketRetryAfter.toSeconds()), "this token holds its "
            + limit + " open WebSockets on this node (tether.auth.quotas.open-sockets, or the "
            + "token's quotas claim); close one first"));
      }
      return handleWebSocketMessages(flow.get().watchTermination((mat, done) -> {
        done.whenComplete((d, error) -> sockets.computeIfPresent(token,
            (id, open) -> open <= 1 ? null : open - 1));
        return mat;
      }));
    });
  }

  /** Runs {@code inner}, an append, if the token's append rate allows one more now. */
  public Route appending(Principal principal, Supplier<Route> inner) {
    OptionalLong wait = tryAppend(principal);
    if (wait.isEmpty()) {
      return inner.get();
    }
    return complete(tooMany(wait.getAsLong(), appendDetail(principal)));
  }

  /**
   * Takes one append of the token's rate (for WebSocket publish frames): empty when allowed,
   * else the seconds to wait.
   */
  public OptionalLong tryAppend(Principal principal) {
    if (!enabled) {
      return OptionalLong.empty();
    }
    Quotas limits = limitsOf(principal);
    long nanos = appends.tryAcquire(principal.tokenId(), limits.appendsPerSecond(),
        limits.appendBurst());
    return nanos == 0 ? OptionalLong.empty()
        : OptionalLong.of(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanos + 999_999_999L)));
  }

  /** What a refused append is told (HTTP detail and WebSocket error frame alike). */
  public String appendDetail(Principal principal) {
    Quotas limits = limitsOf(principal);
    return "this token may append " + limits.appendsPerSecond() + " times a second (bursts of "
        + limits.appendBurst() + ") on this node (tether.auth.quotas.appends-per-second, or the "
        + "token's quotas claim); retry later";
  }

  private static long secondsUntil(Instant expiresAt) {
    return Math.max(1, Duration.between(Instant.now(), expiresAt).toSeconds());
  }

  private static HttpResponse tooMany(long retryAfterSeconds, String detail) {
    return Problem.response(StatusCodes.TOO_MANY_REQUESTS, detail)
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds)));
  }
}
