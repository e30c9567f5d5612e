package io.tether.http.auth;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractUnmatchedPath;

import io.tether.http.streams.StreamNames;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Guards the Durable Streams routes with capability tokens, without the protocol routes knowing:
 * reads (GET, HEAD) need {@code subscribe}, writes (PUT, POST) need {@code publish}, DELETE needs
 * {@code control}, on the stream named by the path after {@code /v1/stream/}. Creating a fork
 * also needs {@code subscribe} on the stream it forks from. A PUT counts against the token's
 * sessions-created quota, a POST against its append rate ({@link TokenQuotas}). CORS preflights
 * ({@code OPTIONS}) pass without a token: browsers never send credentials on them.
 */
public final class StreamAccess {
  static final String PREFIX = "/v1/stream/";

  private StreamAccess() {}

  /** Wraps {@code streams} so every request to a stream URL is authorized first. */
  public static Route guard(Authenticator auth, Route streams) {
    if (!auth.enabled()) {
      return streams;
    }
    return extractUnmatchedPath(path -> {
      if (!path.startsWith(PREFIX) || path.length() == PREFIX.length()) {
        return streams;
      }
      // The name exactly as the routes use it for the entity id: decoding here would let a
      // grant on one spelling ("x y") cover another stream ("x+y"); see StreamNames.
      String stream = path.substring(PREFIX.length());
      return extractMethod(method -> extractRequest(request -> {
        if (method.equals(HttpMethods.OPTIONS)) {
          return streams; // CORS preflight carries no credentials and touches no data
        }
        Capability needed = capabilityFor(method);
        // The fork source is resolved by the code the route forks with, then authorized: the
        // id checked is the id read. A value that names no stream reads nothing (the route
        // answers 400), so only the target is checked then.
        Optional<String> forkSource = method.equals(HttpMethods.PUT)
            ? request.getHeader("Stream-Forked-From").flatMap(h -> StreamNames.forkSource(h.value()))
            : Optional.empty();
        return auth.authorized(needed, stream, principal -> {
          if (forkSource.isPresent() && !principal.may(Capability.SUBSCRIBE, forkSource.get())) {
            return complete(Authenticator.forbidden(Capability.SUBSCRIBE, forkSource.get()));
          }
          if (method.equals(HttpMethods.PUT)) {
            return auth.quotas().creating(principal, stream, () -> streams);
          }
          if (method.equals(HttpMethods.POST)) {
            return auth.quotas().appending(principal, () -> streams);
          }
          return streams;
        });
      }));
    });
  }

  static Capability capabilityFor(HttpMethod method) {
    if (method.equals(HttpMethods.GET) || method.equals(HttpMethods.HEAD)) {
      return Capability.SUBSCRIBE;
    }
    if (method.equals(HttpMethods.DELETE)) {
      return Capability.CONTROL;
    }
    return Capability.PUBLISH;
  }
}
