package io.tether.http.auth;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Some capabilities on the sessions whose ids match one of some patterns. A pattern is a session
 * id in which {@code *} stands for any run of characters ({@code chat-*}, {@code user-42/*},
 * {@code *}); every other character matches itself.
 *
 * @param capabilities what the holder may do
 * @param sessions the session id patterns this grant covers
 */
public record Grant(Set<Capability> capabilities, List<String> sessions) {

  public Grant {
    capabilities = Set.copyOf(capabilities);
    sessions = List.copyOf(sessions);
  }

  /** Whether this grant allows {@code capability} on {@code sessionId}. */
  public boolean allows(Capability capability, String sessionId) {
    return capabilities.contains(capability)
        && sessions.stream().anyMatch(pattern -> matches(pattern, sessionId));
  }

  static boolean matches(String pattern, String sessionId) {
    if (pattern.indexOf('*') < 0) {
      return pattern.equals(sessionId);
    }
    StringBuilder regex = new StringBuilder();
    for (String literal : pattern.split("\\*", -1)) {
      if (regex.length() > 0) {
        regex.append(".*");
      }
      regex.append(Pattern.quote(literal));
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(sessionId).matches();
  }
}
