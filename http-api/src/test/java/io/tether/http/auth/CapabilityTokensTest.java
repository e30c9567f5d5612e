package io.tether.http.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Date;
import java.util.List;
import java.util.Map;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;

class CapabilityTokensTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";
  private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
  private final CapabilityTokens tokens =
      new CapabilityTokens(SECRET.getBytes(StandardCharsets.UTF_8), Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void aVerifiedTokenGrantsExactlyWhatWasIssued() throws Exception {
    String token = tokens.issue("user-42",
        List.of(new Grant(EnumSet.of(Capability.SUBSCRIBE, Capability.CONTROL), List.of("chat-*"))),
        Duration.ofHours(1));
    Principal principal = tokens.verify(token);
    assertEquals("user-42", principal.subject());
    assertTrue(principal.may(Capability.SUBSCRIBE, "chat-1"));
    assertTrue(principal.may(Capability.CONTROL, "chat-"));
    assertFalse(principal.may(Capability.PUBLISH, "chat-1"));
    assertFalse(principal.may(Capability.SUBSCRIBE, "other"));
    assertFalse(principal.may(Capability.SUBSCRIBE, "xchat-1"));
  }

  @Test
  void anExpiredTokenIsRefused() {
    String token = tokens.issue("u", List.of(new Grant(EnumSet.of(Capability.SUBSCRIBE), List.of("*"))),
        Duration.ofSeconds(30));
    CapabilityTokens later = new CapabilityTokens(SECRET.getBytes(StandardCharsets.UTF_8),
        Clock.fixed(NOW.plusSeconds(31), ZoneOffset.UTC));
    var e = assertThrows(InvalidTokenException.class, () -> later.verify(token));
    assertEquals("the token has expired", e.getMessage());
  }

  @Test
  void aTokenSignedWithAnotherKeyIsRefused() {
    CapabilityTokens forger = new CapabilityTokens(
        "another-secret-another-secret-xx".getBytes(StandardCharsets.UTF_8), Clock.fixed(NOW, ZoneOffset.UTC));
    String forged = forger.issue("u", List.of(new Grant(EnumSet.allOf(Capability.class), List.of("*"))),
        Duration.ofHours(1));
    var e = assertThrows(InvalidTokenException.class, () -> tokens.verify(forged));
    assertEquals("the token's signature is invalid", e.getMessage());
  }

  @Test
  void aTokenWhoseClaimsWereEditedIsRefused() {
    String token = tokens.issue("u", List.of(new Grant(EnumSet.of(Capability.SUBSCRIBE), List.of("a"))),
        Duration.ofHours(1));
    String[] parts = token.split("\\.");
    String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
        .replace("\"a\"", "\"*\"");
    String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    assertThrows(InvalidTokenException.class, () -> tokens.verify(tampered));
  }

  @Test
  void anUnsignedTokenIsRefused() {
    String header = Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("{\"iss\":\"tether\",\"sub\":\"u\",\"exp\":" + (NOW.getEpochSecond() + 60)
            + ",\"grants\":[{\"capabilities\":[\"control\"],\"sessions\":[\"*\"]}]}")
            .getBytes(StandardCharsets.UTF_8));
    assertThrows(InvalidTokenException.class, () -> tokens.verify(header + "." + body + "."));
  }

  @Test
  void garbageIsRefusedWithAClearReason() {
    var e = assertThrows(InvalidTokenException.class, () -> tokens.verify("not-a-jwt"));
    assertEquals("the token is not a well-formed JWT", e.getMessage());
  }

  /** A token minted by hand with Nimbus, as any JWT library holding the secret could. */
  private static String minted(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().issuer("tether").subject("u").jwtID("j-1")
        .expirationTime(Date.from(NOW.plusSeconds(3600)))
        .claim("grants", List.of(Map.of("capabilities", List.of("subscribe"),
            "sessions", List.of("chat-*"))));
  }

  @Test
  void aTokenNotValidYetIsRefusedBeyondTheClockSkew() throws Exception {
    CapabilityTokens strict = new CapabilityTokens(SECRET.getBytes(StandardCharsets.UTF_8),
        Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofSeconds(30));
    String later = minted(claims().notBeforeTime(Date.from(NOW.plusSeconds(31))).build());
    var e = assertThrows(InvalidTokenException.class, () -> strict.verify(later));
    assertTrue(e.getMessage().startsWith("the token is not valid yet"), e.getMessage());
    String withinSkew = minted(claims().notBeforeTime(Date.from(NOW.plusSeconds(29))).build());
    assertEquals("u", strict.verify(withinSkew).subject(), "a clock 29 s behind still accepts it");
    String started = minted(claims().notBeforeTime(Date.from(NOW.minusSeconds(1))).build());
    assertEquals("u", strict.verify(started).subject());
    // Issued tokens carry nbf; one issued for later is refused until then.
    String issuedForLater = tokens.issue("u", List.of(new Grant(EnumSet.of(Capability.SUBSCRIBE),
        List.of("a"))), NOW.plusSeconds(3600), NOW.plusSeconds(7200), Quotas.NONE);
    assertThrows(InvalidTokenException.class, () -> tokens.verify(issuedForLater));
    CapabilityTokens inAnHour = new CapabilityTokens(SECRET.getBytes(StandardCharsets.UTF_8),
        Clock.fixed(NOW.plusSeconds(3600), ZoneOffset.UTC));
    assertEquals("u", inAnHour.verify(issuedForLater).subject());
  }

  @Test
  void quotasTravelInTheTokenAndMalformedOnesAreRefused() throws Exception {
    String token = tokens.issue("agent", List.of(new Grant(EnumSet.of(Capability.PUBLISH),
        List.of("a"))), Duration.ofHours(1), new Quotas(null, 4, 1000, null));
    Principal principal = tokens.verify(token);
    assertEquals(new Quotas(null, 4, 1000, null), principal.quotas());
    assertEquals(new Quotas(100, 4, 1000, 200),
        principal.quotas().orElse(new Quotas(100, 16, 100, 200)));
    assertEquals(Quotas.NONE, tokens.verify(tokens.issue("u", List.of(new Grant(
        EnumSet.of(Capability.PUBLISH), List.of("a"))), Duration.ofHours(1))).quotas());
    for (Object bad : List.of(Map.of("openSockets", 0), Map.of("openSockets", -3),
        Map.of("openSockets", "many"), Map.of("openSockets", 1.5), Map.of("sockets", 3), "lots")) {
      String minted = minted(claims().claim("quotas", bad).build());
      assertThrows(InvalidTokenException.class, () -> tokens.verify(minted), bad.toString());
    }
  }

  @Test
  void everyTokenHasItsOwnIdentityForQuotas() throws Exception {
    Grant g = new Grant(EnumSet.of(Capability.SUBSCRIBE), List.of("a"));
    String one = tokens.issue("u", List.of(g), Duration.ofHours(1));
    String two = tokens.issue("u", List.of(g), Duration.ofHours(1));
    assertFalse(tokens.verify(one).tokenId().equals(tokens.verify(two).tokenId()),
        "two tokens of one subject are counted apart");
    JWTClaimsSet noJti = new JWTClaimsSet.Builder(claims().build()).jwtID(null).build();
    assertTrue(tokens.verify(minted(noJti)).tokenId().startsWith("sig:"));
  }

  @Test
  void aTokenWhosePatternsAreMalformedIsRefused() throws Exception {
    for (String pattern : List.of("chat-***", "chat-%2A", "", "chat\u00e9", "ch at")) {
      String minted = minted(claims().claim("grants", List.of(Map.of(
          "capabilities", List.of("subscribe"), "sessions", List.of(pattern)))).build());
      assertThrows(InvalidTokenException.class, () -> tokens.verify(minted), pattern);
    }
  }
}
