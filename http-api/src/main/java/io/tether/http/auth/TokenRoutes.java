package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.tether.http.Problem;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code POST /admin/tokens}: issues a capability token. The caller proves it is the operator
 * with {@code Authorization: Bearer <tether.auth.admin-secret>}, compared in constant time, and
 * only in that header: a request that carries {@code access_token} in its query string is
 * refused (401) whatever it holds, since the operator secret must never travel in a URL.
 *
 * <pre>
 * request:  {"subject": "user-42", "grants": [{"capabilities": ["subscribe"], "sessions": ["chat-*"]}],
 *            "ttlSeconds": 3600, "notBefore": "2026-11-26T14:00:00Z", "quotas": {"openSockets": 4}}
 * response: {"token": "eyJ...", "subject": "user-42", "notBefore": "...", "expiresAt": "2026-11-26T15:00:00Z"}
 * </pre>
 *
 * {@code ttlSeconds} counts from {@code notBefore} (default: now); {@code notBefore} may lie at
 * most {@code max-token-ttl} ahead. Session patterns must pass {@link Grant#refusal}; quotas are
 * positive integers ({@link Quotas}).
 */
public final class TokenRoutes {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The body of a token request. */
  public record TokenRequest(String subject, List<GrantJson> grants, Long ttlSeconds,
      String notBefore, Quotas quotas) {}

  /** One grant as it appears on the wire. */
  public record GrantJson(List<String> capabilities, List<String> sessions) {}

  /** The issued token. */
  public record TokenResponse(String token, String subject, String notBefore, String expiresAt) {}

  private final byte[] adminSecret;
  private final CapabilityTokens tokens;
  private final Duration maxTtl;
  private final Duration defaultTtl;

  public TokenRoutes(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("tether.auth");
    String secret = config.getString("admin-secret");
    String tokenSecret = config.getString("token-secret");
    this.adminSecret = secret.getBytes(StandardCharsets.UTF_8);
    this.tokens = tokenSecret.length() >= 32 ? new CapabilityTokens(tokenSecret) : null;
    this.maxTtl = config.getDuration("max-token-ttl");
    this.defaultTtl = config.getDuration("default-token-ttl");
  }

  public Route route() {
    return pathPrefix("admin", () -> path("tokens", () -> post(() -> extractRequest(request -> {
      if (adminSecret.length < 16 || tokens == null) {
        return complete(Problem.response(StatusCodes.NOT_FOUND,
            "token issuing is disabled: set tether.auth.admin-secret and tether.auth.token-secret"));
      }
      if (request.getUri().query().get(QueryTokens.PARAMETER).isPresent()) {
        return complete(Problem.response(StatusCodes.UNAUTHORIZED, "the admin secret is accepted "
            + "only in the Authorization header, never in the query string (URLs are logged); "
            + "rotate it if it was sent in one"));
      }
      String presented = Authenticator.bearer(request).orElse("");
      if (!MessageDigest.isEqual(adminSecret, presented.getBytes(StandardCharsets.UTF_8))) {
        return complete(Problem.response(StatusCodes.UNAUTHORIZED, "the admin secret is required"));
      }
      return entity(Unmarshaller.entityToString(), body -> issue(body));
    }))));
  }

  private Route issue(String body) {
    TokenRequest req;
    try {
      req = MAPPER.readValue(body, TokenRequest.class);
    } catch (Exception e) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST,
          "the body must be JSON: {subject, grants: [{capabilities, sessions}], ttlSeconds, "
              + "notBefore, quotas: {sessionsCreated, openSockets, appendsPerSecond, appendBurst}}"));
    }
    if (req.subject() == null || req.subject().isBlank()) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST, "subject is required"));
    }
    if (req.grants() == null || req.grants().isEmpty()) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST, "at least one grant is required"));
    }
    List<Grant> grants = new ArrayList<>();
    for (GrantJson g : req.grants()) {
      if (g == null || g.capabilities() == null || g.capabilities().isEmpty()
          || g.sessions() == null || g.sessions().isEmpty()
          || g.sessions().stream().anyMatch(s -> s == null || s.isEmpty())) {
        return complete(Problem.response(StatusCodes.BAD_REQUEST,
            "every grant needs non-empty capabilities and sessions"));
      }
      for (String pattern : g.sessions()) {
        var refused = Grant.refusal(pattern);
        if (refused.isPresent()) {
          return complete(Problem.response(StatusCodes.BAD_REQUEST, refused.get()));
        }
      }
      Set<Capability> caps = EnumSet.noneOf(Capability.class);
      for (String c : g.capabilities()) {
        var cap = Capability.fromWire(c);
        if (cap.isEmpty()) {
          return complete(Problem.response(StatusCodes.BAD_REQUEST,
              "unknown capability '" + c + "' (subscribe, publish, control)"));
        }
        caps.add(cap.get());
      }
      grants.add(new Grant(caps, g.sessions()));
    }
    Duration ttl = req.ttlSeconds() == null ? defaultTtl : Duration.ofSeconds(req.ttlSeconds());
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(maxTtl) > 0) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST,
          "ttlSeconds must be between 1 and " + maxTtl.toSeconds()));
    }
    Instant now = Instant.now();
    Instant notBefore = now;
    if (req.notBefore() != null) {
      try {
        notBefore = Instant.parse(req.notBefore());
      } catch (DateTimeParseException e) {
        return complete(Problem.response(StatusCodes.BAD_REQUEST,
            "notBefore must be an RFC 3339 UTC timestamp such as 2026-11-26T14:00:00Z"));
      }
      if (notBefore.isAfter(now.plus(maxTtl))) {
        return complete(Problem.response(StatusCodes.BAD_REQUEST,
            "notBefore may lie at most " + maxTtl.toSeconds() + " seconds ahead"));
      }
      if (notBefore.isBefore(now)) {
        notBefore = now;
      }
    }
    Quotas quotas = req.quotas() == null ? Quotas.NONE : req.quotas();
    if (quotas.refusal().isPresent()) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST, quotas.refusal().get()));
    }
    Instant expiresAt = notBefore.plus(ttl);
    String token = tokens.issue(req.subject(), grants, notBefore, expiresAt, quotas);
    try {
      String json = MAPPER.writeValueAsString(new TokenResponse(token, req.subject(),
          notBefore.toString(), expiresAt.toString()));
      return complete(HttpResponse.create().withStatus(StatusCodes.CREATED)
          .withEntity(ContentTypes.APPLICATION_JSON, json));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
