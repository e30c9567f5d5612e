package io.tether.http.auth;

import com.typesafe.config.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The limits one capability token works under (see {@link TokenQuotas} for where each is
 * counted). In a token's {@code quotas} claim every field is optional and overrides
 * {@code tether.auth.quotas} for that token only, up or down: an operator gives an agent's
 * token room for many appends and a browser's token little.
 *
 * @param sessionsCreated sessions (and runs) the token may create over its whole lifetime,
 *     counted across the cluster
 * @param openSockets session WebSockets the token may hold open at once on one node
 * @param appendsPerSecond appends (HTTP appends and WebSocket publish frames) per second the
 *     token may make on one node, sustained
 * @param appendBurst appends above that rate the token may make at once after a quiet spell
 */
public record Quotas(Integer sessionsCreated, Integer openSockets, Integer appendsPerSecond,
    Integer appendBurst) {

  /** No override: every limit comes from config. */
  public static final Quotas NONE = new Quotas(null, null, null, null);

  /** The node's defaults, {@code tether.auth.quotas}. */
  public static Quotas fromConfig(Config quotas) {
    Quotas q = new Quotas(quotas.getInt("sessions-created"), quotas.getInt("open-sockets"),
        quotas.getInt("appends-per-second"), quotas.getInt("append-burst"));
    q.refusal().ifPresent(reason -> {
      throw new IllegalStateException("tether.auth.quotas: " + reason);
    });
    return q;
  }

  /** These limits, each absent one taken from {@code defaults}. */
  public Quotas orElse(Quotas defaults) {
    return new Quotas(
        sessionsCreated != null ? sessionsCreated : defaults.sessionsCreated,
        openSockets != null ? openSockets : defaults.openSockets,
        appendsPerSecond != null ? appendsPerSecond : defaults.appendsPerSecond,
        appendBurst != null ? appendBurst : defaults.appendBurst);
  }

  /** Why these limits are unusable (a present one that is not positive), or empty. */
  public Optional<String> refusal() {
    for (Map.Entry<String, Object> e : toClaim().entrySet()) {
      if (((Integer) e.getValue()) < 1) {
        return Optional.of("quota " + e.getKey() + " must be a positive integer");
      }
    }
    return Optional.empty();
  }

  /** The claim's JSON object: only the fields that are set. */
  public Map<String, Object> toClaim() {
    Map<String, Object> claim = new LinkedHashMap<>();
    if (sessionsCreated != null) {
      claim.put("sessionsCreated", sessionsCreated);
    }
    if (openSockets != null) {
      claim.put("openSockets", openSockets);
    }
    if (appendsPerSecond != null) {
      claim.put("appendsPerSecond", appendsPerSecond);
    }
    if (appendBurst != null) {
      claim.put("appendBurst", appendBurst);
    }
    return claim;
  }

  /** Reads a {@code quotas} claim; absent means {@link #NONE}. */
  static Quotas fromClaim(Object claim) throws InvalidTokenException {
    if (claim == null) {
      return NONE;
    }
    if (!(claim instanceof Map<?, ?> map)) {
      throw new InvalidTokenException("the token's quotas claim is malformed");
    }
    for (Object key : map.keySet()) {
      if (!(key instanceof String k) || !(k.equals("sessionsCreated") || k.equals("openSockets")
          || k.equals("appendsPerSecond") || k.equals("appendBurst"))) {
        throw new InvalidTokenException("the token's quotas claim has an unknown field " + key);
      }
    }
    Quotas quotas = new Quotas(number(map.get("sessionsCreated")), number(map.get("openSockets")),
        number(map.get("appendsPerSecond")), number(map.get("appendBurst")));
    if (quotas.refusal().isPresent()) {
      throw new InvalidTokenException("the token's quotas claim is malformed");
    }
    return quotas;
  }

  private static Integer number(Object value) throws InvalidTokenException {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.doubleValue() > Integer.MAX_VALUE) {
      throw new InvalidTokenException("the token's quotas claim is malformed");
    }
    return n.intValue();
  }
}
