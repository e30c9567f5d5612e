package io.tether.http.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Issues and verifies capability tokens: JWTs signed with HMAC-SHA256 (so any JWT library can
 * read them) carrying the standard {@code sub}, {@code iat}, {@code nbf}, {@code exp},
 * {@code jti} and {@code iss} claims, a {@code grants} claim and an optional {@code quotas}
 * claim ({@link Quotas}):
 *
 * <pre>{"grants": [{"capabilities": ["subscribe", "control"], "sessions": ["chat-*"]}],
 *  "quotas": {"appendsPerSecond": 500}}</pre>
 *
 * Signing and verification are Nimbus JOSE+JWT's; this class only decides what is in a token and
 * what makes one acceptable: our issuer, HS256 only, a valid signature, not expired, already
 * valid ({@code nbf}, with {@code clockSkew} of allowance for nodes whose clocks differ a
 * little; {@code exp} gets none), well-formed grants whose patterns pass {@link Grant#refusal}.
 */
public final class CapabilityTokens {
  static final String ISSUER = "tether";
  private static final String GRANTS = "grants";
  private static final String QUOTAS = "quotas";
  /** The allowance for clocks that differ when the config names none. */
  static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);

  private final MACSigner signer;
  private final MACVerifier verifier;
  private final Clock clock;
  private final Duration clockSkew;

  /**
   * @param secret the HMAC key; at least 32 bytes (256 bits), as HS256 requires
   * @param clockSkew how far in the future a token's {@code nbf} may be and still be accepted
   */
  public CapabilityTokens(byte[] secret, Clock clock, Duration clockSkew) {
    try {
      this.signer = new MACSigner(secret);
      this.verifier = new MACVerifier(secret);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("The token secret must be at least 32 bytes long", e);
    }
    this.clock = clock;
    this.clockSkew = clockSkew;
  }

  public CapabilityTokens(byte[] secret, Clock clock) {
    this(secret, clock, DEFAULT_CLOCK_SKEW);
  }

  public CapabilityTokens(String secret) {
    this(secret.getBytes(StandardCharsets.UTF_8), Clock.systemUTC());
  }

  /** A signed token for {@code subject} with {@code grants}, valid from now for {@code ttl}. */
  public String issue(String subject, List<Grant> grants, Duration ttl) {
    return issue(subject, grants, ttl, Quotas.NONE);
  }

  /** A token valid from now for {@code ttl}, whose {@code quotas} override the node's. */
  public String issue(String subject, List<Grant> grants, Duration ttl, Quotas quotas) {
    Instant now = clock.instant();
    return issue(subject, grants, now, now.plus(ttl), quotas);
  }

  /** A signed token valid from {@code notBefore} until {@code expiresAt}. */
  public String issue(String subject, List<Grant> grants, Instant notBefore, Instant expiresAt,
      Quotas quotas) {
    Instant now = clock.instant();
    List<Map<String, Object>> wireGrants = new ArrayList<>();
    for (Grant grant : grants) {
      Map<String, Object> g = new LinkedHashMap<>();
      g.put("capabilities", grant.capabilities().stream().map(Capability::wireName).sorted().toList());
      g.put("sessions", grant.sessions());
      wireGrants.add(g);
    }
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .subject(subject)
        .jwtID(UUID.randomUUID().toString())
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(notBefore))
        .expirationTime(Date.from(expiresAt))
        .claim(GRANTS, wireGrants);
    if (!quotas.toClaim().isEmpty()) {
      claims.claim(QUOTAS, quotas.toClaim());
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("HMAC signing failed", e);
    }
    return jwt.serialize();
  }

  /** The principal of a valid token; throws with the reason when the token is not acceptable. */
  public Principal verify(String token) throws InvalidTokenException {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      throw new InvalidTokenException("the token is not a well-formed JWT");
    }
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      throw new InvalidTokenException("the token is not signed with HS256");
    }
    try {
      if (!jwt.verify(verifier)) {
        throw new InvalidTokenException("the token's signature is invalid");
      }
    } catch (JOSEException e) {
      throw new InvalidTokenException("the token's signature cannot be verified");
    }
    try {
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      if (!ISSUER.equals(claims.getIssuer())) {
        throw new InvalidTokenException("the token was not issued by Tether");
      }
      Date expiry = claims.getExpirationTime();
      if (expiry == null) {
        throw new InvalidTokenException("the token has no expiry");
      }
      Instant now = clock.instant();
      if (!now.isBefore(expiry.toInstant())) {
        throw new InvalidTokenException("the token has expired");
      }
      Date notBefore = claims.getNotBeforeTime();
      if (notBefore != null && now.plus(clockSkew).isBefore(notBefore.toInstant())) {
        throw new InvalidTokenException("the token is not valid yet (nbf "
            + notBefore.toInstant() + ")");
      }
      String subject = claims.getSubject();
      if (subject == null || subject.isBlank()) {
        throw new InvalidTokenException("the token has no subject");
      }
      String tokenId = claims.getJWTID() != null && !claims.getJWTID().isBlank()
          ? claims.getJWTID() : "sig:" + jwt.getSignature();
      return new Principal(subject, grants(claims.getClaim(GRANTS)), expiry.toInstant(), tokenId,
          Quotas.fromClaim(claims.getClaim(QUOTAS)));
    } catch (ParseException e) {
      throw new InvalidTokenException("the token's claims are malformed");
    }
  }

  private static List<Grant> grants(Object claim) throws InvalidTokenException {
    if (!(claim instanceof List<?> list)) {
      throw new InvalidTokenException("the token has no grants");
    }
    List<Grant> grants = new ArrayList<>();
    for (Object item : list) {
      if (!(item instanceof Map<?, ?> map)
          || !(map.get("capabilities") instanceof List<?> caps)
          || !(map.get("sessions") instanceof List<?> sessions)) {
        throw new InvalidTokenException("the token's grants are malformed");
      }
      Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
      for (Object c : caps) {
        capabilities.add(Capability.fromWire(String.valueOf(c))
            .orElseThrow(() -> new InvalidTokenException("unknown capability " + c)));
      }
      List<String> patterns = new ArrayList<>();
      for (Object s : sessions) {
        if (!(s instanceof String pattern) || Grant.refusal(pattern).isPresent()) {
          throw new InvalidTokenException("the token's session patterns are malformed");
        }
        patterns.add(pattern);
      }
      grants.add(new Grant(capabilities, patterns));
    }
    return grants;
  }
}
