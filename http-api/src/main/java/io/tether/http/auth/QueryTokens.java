package io.tether.http.auth;

import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Where a capability token may travel in the query string ({@code ?access_token=}): only where a
 * client cannot set a header, because a URL lands in access logs, proxy logs and browser
 * history. A browser cannot set headers on a WebSocket upgrade ({@code new WebSocket(url)}) nor
 * on an {@code EventSource}, so these take it:
 *
 * <ul>
 *   <li>a GET that is a WebSocket upgrade (the session WebSocket);
 *   <li>a GET live read of a Durable Stream ({@code live=sse} or {@code live=long-poll}).
 * </ul>
 *
 * Everything else (writes, creates, deletes, control, catch-up reads, every REST call) must send
 * {@code Authorization: Bearer}; a query token there is refused with 401 even if a header is
 * also present, so a client that leaks tokens into URLs finds out at once. The operator secret
 * is never accepted in the query string ({@link TokenRoutes}).
 */
final class QueryTokens {
  static final String PARAMETER = "access_token";
  static final String REFUSAL = "access_token in the query string is accepted only on a "
      + "WebSocket upgrade and on live reads (GET /v1/stream/...?live=sse or live=long-poll), "
      + "where a browser cannot set headers; send Authorization: Bearer <token>";
  private static final String STREAM_PREFIX = "/v1/stream/";

  private QueryTokens() {}

  /** Whether {@code request} may carry its token in the query string. */
  static boolean allowedOn(HttpRequest request) {
    if (!request.method().equals(HttpMethods.GET)) {
      return false;
    }
    if (request.getAttribute(AttributeKeys.webSocketUpgrade).isPresent()) {
      return true;
    }
    if (!request.getUri().path().startsWith(STREAM_PREFIX)) {
      return false;
    }
    var live = request.getUri().query().getAll("live");
    return live.size() == 1 && (live.get(0).equals("sse") || live.get(0).equals("long-poll"));
  }
}
