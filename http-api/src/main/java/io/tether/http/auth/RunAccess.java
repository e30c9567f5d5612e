package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Guards the harness runs API with capability tokens, in terms of the run's session
 * ({@code run-<id>}), so one token scheme covers watching and controlling a run over REST, the
 * session WebSocket and Durable Streams reads alike:
 *
 * <ul>
 *   <li>{@code POST /runs} (start a run) needs {@code publish} on every {@code run-*}, and counts
 *       as a session created against the token's quota;
 *   <li>{@code GET /runs} (list) needs {@code subscribe} on every {@code run-*};
 *   <li>{@code GET /runs/{id}} and everything else read under it ({@code /files}) need
 *       {@code subscribe} on {@code run-{id}};
 *   <li>{@code POST /runs/{id}/cancel|steer|pause|resume} need {@code control} on
 *       {@code run-{id}}.
 * </ul>
 *
 * The run id is the path segment decoded exactly as the runs routes decode it, so the id
 * authorized is the id used.
 */
public final class RunAccess {
  private RunAccess() {}

  /** Wraps the runs routes so every request is authorized first. */
  public static Route guard(Authenticator auth, Route runs) {
    if (!auth.enabled()) {
      return runs;
    }
    return extractUri(uri -> {
      List<String> segments = new ArrayList<>();
      uri.pathSegments().forEach(segments::add);
      if (segments.isEmpty() || !segments.get(0).equals("runs")) {
        return runs;
      }
      List<String> rest = segments.subList(1, segments.size());
      return extractMethod(method -> {
        if (method.equals(HttpMethods.OPTIONS)) {
          return runs;
        }
        boolean read = method.equals(HttpMethods.GET) || method.equals(HttpMethods.HEAD);
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
          return read
              ? auth.authorizeEvery(Capability.SUBSCRIBE, "run-*", principal -> runs)
              : auth.authorizeEvery(Capability.PUBLISH, "run-*", principal ->
                  // The run id is made by the route; the reservation only needs to be unique.
                  auth.quotas().creating(principal, "run:" + UUID.randomUUID(), () -> runs));
        }
        return auth.authorize(read ? Capability.SUBSCRIBE : Capability.CONTROL,
            "run-" + rest.get(0), () -> runs);
      });
    });
  }
}
