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
import java.util.List;
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

  @Test
  void patternsMatchWholeIdsWithStarAsWildcard() {
    assertTrue(Grant.matches("*", "anything/at.all"));
    assertTrue(Grant.matches("user-42/*", "user-42/chat"));
    assertFalse(Grant.matches("user-42/*", "user-420/chat"));
    assertTrue(Grant.matches("a*c", "abbbc"));
    assertFalse(Grant.matches("a.c", "abc"));
    assertTrue(Grant.matches("exact", "exact"));
    assertFalse(Grant.matches("exact", "exact2"));
  }
}
