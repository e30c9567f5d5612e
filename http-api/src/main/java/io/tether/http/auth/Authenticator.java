package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import com.typesafe.config.Config;
import io.tether.http.Problem;
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
 * {@code access_token} query parameter for clients that cannot set headers (browsers opening a
 * WebSocket, EventSource). No token or an invalid one: 401 with {@code WWW-Authenticate}; a valid
 * token that does not grant the capability on that session: 403. With {@code tether.auth.enabled
 * = off} (dev mode only) every request acts as {@link Principal#ANONYMOUS_WITH_AUTH_OFF}.
 */
public final class Authenticator {
  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

  private final boolean enabled;
  private final CapabilityTokens tokens;

  public Authenticator(boolean enabled, CapabilityTokens tokens) {
    this.enabled = enabled;
    this.tokens = tokens;
  }

  /** Reads {@code tether.auth}; refuses to start with auth on and no usable secret. */
  public static Authenticator fromConfig(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("tether.auth");
    boolean enabled = config.getBoolean("enabled");
    String secret = config.getString("token-secret");
    if (!enabled) {
      log.warn("AUTHENTICATION IS OFF (tether.auth.enabled = off): every client may read, write "
          + "and control every session. Never run a reachable node like this.");
      return new Authenticator(false, null);
    }
    if (secret.length() < 32) {
      throw new IllegalStateException("tether.auth.token-secret (TETHER_AUTH_TOKEN_SECRET) must be "
          + "set to at least 32 characters when authentication is on");
    }
    return new Authenticator(true, new CapabilityTokens(secret));
  }

  public boolean enabled() {
    return enabled;
  }

  /** Runs {@code inner} if the request's token allows {@code capability} on {@code sessionId}. */
  public Route authorize(Capability capability, String sessionId, Supplier<Route> inner) {
    return authenticated(principal -> principal.may(capability, sessionId)
        ? inner.get()
        : complete(Problem.response(StatusCodes.FORBIDDEN, "the token does not grant "
            + capability.wireName() + " on session '" + sessionId + "'")));
  }

  /** Runs {@code inner} with the request's verified principal, or answers 401. */
  public Route authenticated(Function<Principal, Route> inner) {
    if (!enabled) {
      return inner.apply(Principal.ANONYMOUS_WITH_AUTH_OFF);
    }
    return extractRequest(request -> {
      Optional<String> token = tokenOf(request);
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

  static Optional<String> tokenOf(HttpRequest request) {
    Optional<String> header = request.getHeader("Authorization")
        .map(h -> h.value().trim())
        .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(v -> v.substring(7).trim());
    if (header.isPresent()) {
      return header;
    }
    return request.getUri().query().get("access_token");
  }

  private static HttpResponse unauthorized(String detail) {
    return Problem.response(StatusCodes.UNAUTHORIZED, detail)
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"tether\""));
  }
}
