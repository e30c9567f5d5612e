package io.tether.http.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code *} means: a wildcard within one segment in grants, {@code **} across segments,
 * never part of an id; and the tricks an attacker tries against a pattern grant.
 */
class GrantTest {

  private static Principal holding(String... patterns) {
    return new Principal("u", List.of(new Grant(EnumSet.allOf(Capability.class),
        List.of(patterns))), Instant.MAX, "t", Quotas.NONE);
  }

  @Test
  void aStarMatchesWithinOneSegmentAndTwoStarsAcrossSegments() {
    assertTrue(Grant.matches("chat-42-*", "chat-42-a"));
    assertTrue(Grant.matches("chat-42-*", "chat-42-"));
    assertFalse(Grant.matches("chat-42-*", "chat-42-a/victim"), "* never crosses /");
    assertFalse(Grant.matches("chat-42-*", "chat-42-/victim"));
    assertTrue(Grant.matches("chat-42-**", "chat-42-a/victim"));
    assertTrue(Grant.matches("user-42/*", "user-42/chat"));
    assertFalse(Grant.matches("user-42/*", "user-42/chat/deeper"));
    assertTrue(Grant.matches("user-42/**", "user-42/chat/deeper"));
    assertFalse(Grant.matches("user-42/*", "user-420/chat"));
    assertTrue(Grant.matches("*/inbox", "bob/inbox"));
    assertFalse(Grant.matches("*/inbox", "bob/x/inbox"));
    assertTrue(Grant.matches("**/inbox", "bob/x/inbox"));
    assertTrue(Grant.matches("a*c", "abbbc"));
    assertTrue(Grant.matches("*", "anything.at-all"));
    assertFalse(Grant.matches("*", "any/thing"));
    assertTrue(Grant.matches("**", "any/thing/at/all"));
    assertFalse(Grant.matches("a.c", "abc"), "no character but * is special");
    assertTrue(Grant.matches("exact", "exact"));
    assertFalse(Grant.matches("exact", "exact2"));
  }

  @Test
  void prefixCaseEncodingAndLookalikeTricksMatchNothing() {
    Principal p = holding("chat-42-*");
    for (String id : List.of(
        "chat-42",                // the prefix without its separator
        "chat-421",               // a longer number
        "xchat-42-a",             // something before the prefix
        "CHAT-42-a", "Chat-42-a", // case
        "chat-42%2Da", "chat%2D42-a", // percent-encoding is not decoded
        "chat\u201042-a",         // U+2010 hyphen
        "chat\u221242-a",         // U+2212 minus
        "\u0441hat-42-a",         // Cyrillic es
        "chat-42-a/../victim", "chat-42-/victim", "chat-42-a/victim", // segments
        "chat-42-*", "chat-42-**", "*")) { // ids never contain *
      assertFalse(p.may(Capability.SUBSCRIBE, id), id);
    }
    assertTrue(p.may(Capability.SUBSCRIBE, "chat-42-a"));
    assertFalse(holding("**").may(Capability.SUBSCRIBE, "a*b"), "not even ** covers a * id");
  }

  @Test
  void coveringEveryIdOfAPatternNeedsAWildcardThere() {
    for (String pattern : List.of("run-*", "r*", "*", "**", "run-**", "*-*")) {
      assertTrue(holding(pattern).mayEvery(Capability.PUBLISH, "run-*"), pattern);
    }
    for (String pattern : List.of("run-a*", "run-", "run-x", "run-*a", "chat-*")) {
      assertFalse(holding(pattern).mayEvery(Capability.PUBLISH, "run-*"), pattern);
    }
  }

  @Test
  void onlyWellFormedPatternsCanBeGranted() {
    for (String ok : List.of("chat-42-*", "user-42/**", "**", "a*b*c", "x~y.z_(1)@h:1=2,3;4+5")) {
      assertTrue(Grant.refusal(ok).isEmpty(), ok);
    }
    for (String bad : List.of("", "chat-***", "chat-%2A", "chat 42", "chat\u201042", "a?b",
        "a[b]", "a\\b", "x".repeat(257))) {
      assertTrue(Grant.refusal(bad).isPresent(), bad);
    }
  }

  @Test
  void noPatternMakesMatchingSlow() {
    // A backtracking matcher (the regex this replaced) takes time exponential in the number of
    // wildcards here and never finishes; the dynamic programme does 200 x 200 steps.
    String id = "a".repeat(200);
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      assertFalse(Grant.matches("*a".repeat(100) + "*b", id));
      assertFalse(Grant.matches("**a".repeat(60) + "**b", id));
    });
  }
}
