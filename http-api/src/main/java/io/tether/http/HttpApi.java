package io.tether.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import io.tether.http.health.HealthRoutes;
import io.tether.http.health.JournalProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The whole public HTTP surface of a node: health, the Durable Streams protocol, and (as they
 * land) the session WebSocket and REST APIs. Every error leaves as a problem body.
 */
public final class HttpApi {
  private HttpApi() {}

  /** All routes of a node; the entities must have been initialised on {@code system}. */
  public static Route routes(ActorSystem<?> system) {
    return ProblemHandlers.wrap(concat(
        new HealthRoutes(system, new JournalProbe(system)).route()));
  }
}
