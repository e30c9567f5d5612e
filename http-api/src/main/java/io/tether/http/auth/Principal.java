package io.tether.http.auth;

import java.time.Instant;
import java.util.List;

/**
 * Who made a request and what their verified token grants.
 *
 * @param subject the token's subject (a user, device or agent id)
 * @param grants what the token allows
 * @param expiresAt when the token stops being valid
 */
public record Principal(String subject, List<Grant> grants, Instant expiresAt) {

  /** The principal of every request when authentication is off (dev mode only). */
  public static final Principal ANONYMOUS_WITH_AUTH_OFF = new Principal("anonymous",
      List.of(new Grant(java.util.EnumSet.allOf(Capability.class), List.of("*"))), Instant.MAX);

  public Principal {
    grants = List.copyOf(grants);
  }

  /** Whether some grant allows {@code capability} on {@code sessionId}. */
  public boolean may(Capability capability, String sessionId) {
    return grants.stream().anyMatch(g -> g.allows(capability, sessionId));
  }
}
