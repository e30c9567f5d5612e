package io.tether.http.auth;

import java.time.Instant;
import java.util.EnumSet;
import java.util.List;

/**
 * Who made a request and what their verified token grants.
 *
 * @param subject the token's subject (a user, device or agent id)
 * @param grants what the token allows
 * @param expiresAt when the token stops being valid
 * @param tokenId the token's identity for quotas: its {@code jti}, or its signature when it has
 *     none (every token is then still counted on its own)
 * @param quotas the limits the token's {@code quotas} claim sets; absent ones come from config
 */
public record Principal(String subject, List<Grant> grants, Instant expiresAt, String tokenId,
    Quotas quotas) {

  /** The principal of every request when authentication is off (dev mode only). */
  public static final Principal ANONYMOUS_WITH_AUTH_OFF = new Principal("anonymous",
      List.of(new Grant(EnumSet.allOf(Capability.class), List.of("**"))), Instant.MAX,
      "anonymous", Quotas.NONE);

  public Principal {
    grants = List.copyOf(grants);
  }

  /**
   * Whether some grant allows {@code capability} on {@code sessionId}. An id containing
   * {@code *} is never allowed: no stream or session may be named so, and refusing it here keeps
   * a pattern character from ever being read as part of an id.
   */
  public boolean may(Capability capability, String sessionId) {
    return sessionId.indexOf('*') < 0 && grants.stream().anyMatch(g -> g.allows(capability, sessionId));
  }

  /**
   * Whether some grant allows {@code capability} on every id that {@code idPattern} (an id with
   * one trailing {@code *}, such as {@code run-*}) stands for. Patterns never hold a literal
   * {@code *}, so a grant's pattern matches the text {@code run-*} only if one of its wildcards
   * swallows that {@code *}, and a wildcard that can swallow it can swallow any one-segment
   * suffix: {@code run-*}, {@code r*} and {@code **} cover every run, {@code run-a*} does not.
   */
  public boolean mayEvery(Capability capability, String idPattern) {
    return grants.stream().anyMatch(g -> g.allows(capability, idPattern));
  }
}
