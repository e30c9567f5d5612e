package io.tether.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import io.tether.actors.session.SessionStreams;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.RunAccess;
import io.tether.http.auth.StreamAccess;
import io.tether.http.auth.TokenRoutes;
import io.tether.http.console.ConsoleRoutes;
import io.tether.http.console.RunFilesRoutes;
import io.tether.http.health.HealthRoutes;
import io.tether.http.ops.MetricsRoutes;
import io.tether.http.runs.RunRoutes;
import io.tether.http.live.SessionRoutes;
import io.tether.http.live.SessionSocketRoute;
import io.tether.http.streams.DurableStreamsRoutes;
import io.tether.http.health.JournalProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The whole public HTTP surface of a node: health, the Durable Streams protocol, the session
 * WebSocket and REST APIs (with the OpenAPI document), runs and the console. Every error leaves
 * as a problem body. {@code /metrics} is not here: it is served on the management port
 * ({@link MetricsRoutes}).
 */
public final class HttpApi {
  private HttpApi() {}

  /**
   * All routes of a node; the entities must have been initialised on {@code system}. Every
   * route reaches the session entities through the node's one {@code streams}.
   */
  public static Route routes(ActorSystem<?> system, SessionStreams streams) {
    Authenticator auth = Authenticator.fromConfig(system);
    MetricsRoutes metrics = new MetricsRoutes(system);
    FailFast failFast = new FailFast(system);
    // Built once: a directive's inner route supplier runs on every request, and building these
    // (configuration, the OpenAPI document, a journal probe) per request cost most of a node's
    // CPU under load (JFR: the route constructors were among the hottest frames).
    Route api = ProblemHandlers.wrap(concat(
        // The hot paths first: a request tries the routes in order, and the paths are disjoint.
        failFast.guard(StreamAccess.guard(auth,
            new DurableStreamsRoutes(system, streams, failFast::longPollWait).route())),
        new SessionSocketRoute(system, auth, streams).route(),
        failFast.guard(new SessionRoutes(system, auth, streams).route()),
        new HealthRoutes(system, new JournalProbe(system)).route(),
        new TokenRoutes(system).route(),
        RunAccess.guard(auth, new RunRoutes(system, streams).route()),
        new RunFilesRoutes(system, auth).route(),
        new ConsoleRoutes().route()));
    return metrics.instrument(() -> api);
  }
}
