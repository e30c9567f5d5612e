package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import com.typesafe.config.Config;
import io.tether.http.Problem;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directives every route uses to check a capability token before it touches a session.
 *
 * <p>The token is taken from {@code Authorization: Bearer <token>}, or from the
 * {@code access_token} query parameter only where a client cannot set headers (a WebSocket
 * upgrade, a live SSE or long-poll read: {@link QueryTokens}). No token, an invalid one, or a
 * query token anywhere else: 401 with {@code WWW-Authenticate}; a valid token that does not
 * grant the capability on that session: 403; a token over one of its quotas: 429
 * ({@link TokenQuotas}). With {@code tether.auth.enabled = off} (dev mode only) every request
 * acts as {@link Principal#ANONYMOUS_WITH_AUTH_OFF}.
 */
public final class Authenticator {
  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

  private final boolean enabled;
  private final CapabilityTokens tokens;
  private final TokenQuotas quotas;

  private Authenticator(boolean enabled, CapabilityTokens tokens, TokenQuotas quotas) {
    this.enabled = enabled;
    this.tokens = tokens;
    this.quotas = quotas;
  }

  /** Reads {@code tether.auth}; refuses to start with auth on and no usable secret. */
  public static Authenticator fromConfig(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("tether.auth");
    boolean enabled = config.getBoolean("enabled");
    String secret = config.getString("token-secret");
    if (!enabled) {
      log.warn("AUTHENTICATION IS OFF (tether.auth.enabled = off): every client may read, write "
          + "and control every session. Never run a reachable node like this.");
      return new Authenticator(false, null, TokenQuotas.unlimited());
    }
    if (secret.length() < 32) {
      throw new IllegalStateException("tether.auth.token-secret (TETHER_AUTH_TOKEN_SECRET) must be "
          + "set to at least 32 characters when authentication is on");
    }
    CapabilityTokens tokens = new CapabilityTokens(secret.getBytes(StandardCharsets.UTF_8),
        Clock.systemUTC(), config.getDuration("clock-skew"));
    return new Authenticator(true, tokens, TokenQuotas.fromConfig(system));
  }

  public boolean enabled() {
    return enabled;
  }

  /** The per-token quotas of this node (unlimited when authentication is off). */
  public TokenQuotas quotas() {
    return quotas;
  }

  /** Runs {@code inner} if the request's token allows {@code capability} on {@code sessionId}. */
  public Route authorize(Capability capability, String sessionId, Supplier<Route> inner) {
    return authorized(capability, sessionId, principal -> inner.get());
  }

  /**
   * Runs {@code inner} with the principal if its token allows {@code capability} on the id. An
   * id containing {@code *} is answered 400 without looking at the token: ids never contain it
   * ({@code *} is the wildcard of grants).
   */
  public Route authorized(Capability capability, String sessionId,
      Function<Principal, Route> inner) {
    if (sessionId.indexOf('*') >= 0) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST, "'" + sessionId + "': session "
          + "and stream ids never contain * (it is the wildcard of grants)"));
    }
    return authenticated(principal -> principal.may(capability, sessionId)
        ? inner.apply(principal)
        : complete(forbidden(capability, sessionId)));
  }

  /**
   * Runs {@code inner} if the token allows {@code capability} on every id {@code idPattern}
   * stands for ({@link Principal#mayEvery}), e.g. {@code run-*} to start or list runs.
   */
  public Route authorizeEvery(Capability capability, String idPattern,
      Function<Principal, Route> inner) {
    return authenticated(principal -> principal.mayEvery(capability, idPattern)
        ? inner.apply(principal)
        : complete(Problem.response(StatusCodes.FORBIDDEN, "the token does not grant "
            + capability.wireName() + " on every session '" + idPattern + "'")));
  }

  /** The 403 for a token that does not grant {@code capability} on {@code sessionId}. */
  public static HttpResponse forbidden(Capability capability, String sessionId) {
    return Problem.response(StatusCodes.FORBIDDEN, "the token does not grant "
        + capability.wireName() + " on session '" + sessionId + "'");
  }

  /** Runs {@code inner} with the request's verified principal, or answers 401. */
  public Route authenticated(Function<Principal, Route> inner) {
    if (!enabled) {
      return inner.apply(Principal.ANONYMOUS_WITH_AUTH_OFF);
    }
    return extractRequest(request -> {
      Optional<String> query = request.getUri().query().get(QueryTokens.PARAMETER);
      if (query.isPresent() && !QueryTokens.allowedOn(request)) {
        return complete(unauthorized(QueryTokens.REFUSAL));
      }
      Optional<String> token = bearer(request).or(() -> query);
      if (token.isEmpty()) {
        return complete(unauthorized("a capability token is required (Authorization: Bearer ...)"));
      }
      try {
        return inner.apply(tokens.verify(token.get()));
      } catch (InvalidTokenException e) {
        return complete(unauthorized(e.getMessage()));
      }
    });
  }

  /** Verifies a token outside a route (e.g. a WebSocket frame that carries one). */
  public Principal verify(String token) throws InvalidTokenException {
    if (!enabled) {
      return Principal.ANONYMOUS_WITH_AUTH_OFF;
    }
    return tokens.verify(token);
  }

  /** The token of an {@code Authorization: Bearer} header, if the request has one. */
  static Optional<String> bearer(HttpRequest request) {
    return request.getHeader("Authorization")
        .map(h -> h.value().trim())
        .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(v -> v.substring(7).trim());
  }

  private static HttpResponse unauthorized(String detail) {
    return Problem.response(StatusCodes.UNAUTHORIZED, detail)
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"tether\""));
  }
}
