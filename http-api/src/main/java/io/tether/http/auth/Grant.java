package io.tether.http.auth;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Some capabilities on the sessions whose ids match one of some patterns.
 *
 * <p>A pattern is a session id in which {@code *} stands for any run of characters within one
 * segment (it never matches {@code /}) and {@code **} for any run of characters across segments
 * ({@code /} included). {@code chat-42-*} covers {@code chat-42-a} but not {@code chat-42-a/b};
 * {@code user-42/**} covers everything under {@code user-42/}; {@code **} covers every id. Every
 * other character matches only itself: matching is case-sensitive and nothing is decoded, so
 * {@code %2F} in a pattern is three characters (and refused: see {@link #refusal}). Ids never
 * contain {@code *} (the routes refuse them), so a {@code *} in a pattern is always a wildcard.
 *
 * @param capabilities what the holder may do
 * @param sessions the session id patterns this grant covers
 */
public record Grant(Set<Capability> capabilities, List<String> sessions) {
  /** The characters of ids and patterns besides letters and digits ({@code *} only in patterns). */
  private static final String PUNCTUATION = "-._~!$&'()+,;=:@/";

  public Grant {
    capabilities = Set.copyOf(capabilities);
    sessions = List.copyOf(sessions);
  }

  /** Whether this grant allows {@code capability} on {@code sessionId}. */
  public boolean allows(Capability capability, String sessionId) {
    return capabilities.contains(capability)
        && sessions.stream().anyMatch(pattern -> matches(pattern, sessionId));
  }

  /**
   * Why {@code pattern} is not a valid grant pattern, or empty: a pattern is non-empty, at most
   * 256 characters, of the id alphabet (letters, digits, {@code -._~!$&'()+,;=:@/}) plus
   * {@code *}, with no run of more than two {@code *}.
   */
  public static Optional<String> refusal(String pattern) {
    if (pattern == null || pattern.isEmpty() || pattern.length() > 256) {
      return Optional.of("a session pattern has 1 to 256 characters");
    }
    if (pattern.contains("***")) {
      return Optional.of("'" + pattern + "': * matches within one segment, ** across segments; "
          + "there is no ***");
    }
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (!(isIdChar(c) || c == '*')) {
        return Optional.of("'" + pattern + "': a session pattern uses only letters, digits, "
            + PUNCTUATION + " and * (no percent-encoding)");
      }
    }
    return Optional.empty();
  }

  private static boolean isIdChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || PUNCTUATION.indexOf(c) >= 0;
  }

  /**
   * Whether {@code pattern} matches all of {@code id}. Dynamic programming over the pattern's
   * elements, O(pattern × id) with no backtracking, so no pattern can make it slow.
   */
  static boolean matches(String pattern, String id) {
    if (pattern.indexOf('*') < 0) {
      return pattern.equals(id);
    }
    int n = id.length();
    // reach[j]: the pattern read so far matches id[0, j)
    boolean[] reach = new boolean[n + 1];
    boolean[] next = new boolean[n + 1];
    reach[0] = true;
    int i = 0;
    while (i < pattern.length()) {
      char c = pattern.charAt(i);
      if (c == '*') {
        boolean crossesSlash = i + 1 < pattern.length() && pattern.charAt(i + 1) == '*';
        i += crossesSlash ? 2 : 1;
        boolean open = false;
        for (int j = 0; j <= n; j++) {
          if (j > 0 && !crossesSlash && id.charAt(j - 1) == '/') {
            open = false; // a single * stops at a segment boundary
          }
          open |= reach[j];
          next[j] = open;
        }
      } else {
        i++;
        next[0] = false;
        for (int j = 1; j <= n; j++) {
          next[j] = reach[j - 1] && id.charAt(j - 1) == c;
        }
      }
      boolean[] swap = reach;
      reach = next;
      next = swap;
    }
    return reach[n];
  }
}
