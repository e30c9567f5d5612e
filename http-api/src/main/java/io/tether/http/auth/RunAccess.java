package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractUnmatchedPath;

import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Guards the harness runs API with capability tokens, in terms of the run's session
 * ({@code run-<id>}), so one token scheme covers watching and controlling a run over REST, the
 * session WebSocket and Durable Streams reads alike:
 *
 * <ul>
 *   <li>{@code POST /runs} (start a run) needs {@code publish} on {@code run-*};
 *   <li>{@code GET /runs} (list) needs {@code subscribe} on {@code run-*};
 *   <li>{@code GET /runs/{id}} needs {@code subscribe} on {@code run-{id}};
 *   <li>{@code POST /runs/{id}/cancel|steer|pause|resume} need {@code control} on {@code run-{id}}.
 * </ul>
 */
public final class RunAccess {
  private static final String PREFIX = "/runs";

  private RunAccess() {}

  /** Wraps the runs routes so every request is authorized first. */
  public static Route guard(Authenticator auth, Route runs) {
    if (!auth.enabled()) {
      return runs;
    }
    return extractUnmatchedPath(path -> {
      if (!(path.equals(PREFIX) || path.startsWith(PREFIX + "/"))) {
        return runs;
      }
      String rest = path.length() > PREFIX.length() ? path.substring(PREFIX.length() + 1) : "";
      return extractMethod(method -> {
        if (method.equals(HttpMethods.OPTIONS)) {
          return runs;
        }
        if (rest.isEmpty()) {
          Capability needed = method.equals(HttpMethods.POST) ? Capability.PUBLISH : Capability.SUBSCRIBE;
          return auth.authorize(needed, "run-*", () -> runs);
        }
        int slash = rest.indexOf('/');
        String runId = slash < 0 ? rest : rest.substring(0, slash);
        Capability needed = slash < 0 && !method.equals(HttpMethods.POST)
            ? Capability.SUBSCRIBE : Capability.CONTROL;
        return auth.authorize(needed, "run-" + runId, () -> runs);
      });
    });
  }
}
