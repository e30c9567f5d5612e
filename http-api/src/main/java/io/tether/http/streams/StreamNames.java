package io.tether.http.streams;

import java.util.Optional;

/**
 * Which stream names the Durable Streams routes accept. A name is the path after
 * {@code /v1/stream/} exactly as sent, and it is the entity id and the name tokens are checked
 * against, so it must read the same to every layer: segments separated by {@code /}, each
 * non-empty, not {@code .} or {@code ..}, of RFC 3986 unreserved and sub-delimiter characters
 * plus {@code :} and {@code @}, with no percent-encoding (which would make two spellings of one
 * name), no {@code +} (which form decoding reads as a space) and no {@code *} (the wildcard of
 * token grants, so a grant can never be read as naming a stream literally); at most
 * {@code tether.streams.max-name-length} characters. Anything else is answered 400.
 */
public final class StreamNames {
  private static final String PREFIX = "/v1/stream/";

  private StreamNames() {}

  /**
   * The stream id a {@code Stream-Forked-From} value names: a path ({@code /v1/stream/<id>}) or
   * a URL whose {@code scheme://authority} is dropped. The route forks exactly this id and
   * {@code io.tether.http.auth.StreamAccess} authorizes exactly this id, so what is read is what
   * was authorized (a guard that checked the raw header text let {@code chat-42-://x/victim}
   * pass a grant on {@code chat-42-*} and fork {@code victim}). Empty when it names no stream.
   */
  public static Optional<String> forkSource(String reference) {
    String path = reference.trim();
    int scheme = path.indexOf("://");
    if (scheme >= 0) {
      int slash = path.indexOf('/', scheme + 3);
      path = slash >= 0 ? path.substring(slash) : "/";
    }
    if (path.startsWith(PREFIX)) {
      path = path.substring(PREFIX.length());
    } else if (path.startsWith("/")) {
      path = path.substring(1);
    }
    return path.isEmpty() ? Optional.empty() : Optional.of(path);
  }

  /** Why {@code name} is refused, or empty when it is a valid stream name. */
  static Optional<String> refusal(String name, int maxLength) {
    if (name.length() > maxLength) {
      return Optional.of("A stream name has at most " + maxLength + " characters");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return Optional.of("A stream name is made of non-empty segments other than . and ..");
      }
    }
    for (int i = 0; i < name.length(); i++) {
      if (!allowed(name.charAt(i))) {
        return Optional.of("A stream name uses only letters, digits and -._~!$&'(),;=:@/"
            + " (no percent-encoding, no +, no *)");
      }
    }
    return Optional.empty();
  }

  private static boolean allowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "-._~!$&'(),;=:@/".indexOf(c) >= 0;
  }
}
