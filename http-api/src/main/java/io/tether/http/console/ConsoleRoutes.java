package io.tether.http.console;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResourceDirectory;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;

import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Serves the web console: {@code GET /} is its page, {@code GET /console/...} its scripts and
 * styles, all read from the jar's {@code console/} resources (plain ES modules and CSS, no build
 * step). The console is a client of the public APIs only (Durable Streams, the session
 * WebSocket, the runs REST API), so serving it needs no collaborator and no authentication: the
 * assets hold no data, and every call the page makes carries the user's token.
 *
 * <p>Assets are sent with {@code Cache-Control: no-cache}, so a browser revalidates them and a
 * new node version never runs against a stale script.
 */
public final class ConsoleRoutes {

  private static final String ROOT = "console";

  /** The console's routes: {@code /} and {@code /console/*}. */
  public Route route() {
    return get(() -> respondWithHeader(RawHeader.create("Cache-Control", "no-cache"),
        () -> concat(
            pathSingleSlash(() -> getFromResource(ROOT + "/index.html")),
            pathPrefix(ROOT, () -> getFromResourceDirectory(ROOT)))));
  }
}
