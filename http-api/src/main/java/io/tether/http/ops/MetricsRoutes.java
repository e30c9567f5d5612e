package io.tether.http.ops;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.tether.actors.metrics.TetherMetrics;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics}: the node's Prometheus metrics ({@link TetherMetrics}), served on the
 * Pekko Management port ({@code pekko.management.http.*}, 8558), never on the public API port:
 * they reveal load, session counts and error rates to whoever can reach them, and the public
 * port faces clients. This class is the management route provider (registered in this module's
 * {@code reference.conf}, loaded by Pekko Management with the node's ActorSystem), and it gives
 * the public API the directive that counts and times every HTTP response.
 */
public final class MetricsRoutes implements ManagementRouteProvider {
  private final TetherMetrics metrics;

  public MetricsRoutes(ActorSystem<?> system) {
    this.metrics = TetherMetrics.get(system);
  }

  /** The constructor Pekko Management calls for a configured route provider. */
  public MetricsRoutes(ExtendedActorSystem system) {
    this(Adapter.toTyped(system));
  }

  /** {@code GET /metrics} for the management endpoint. */
  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return route();
  }

  /** {@code GET /metrics}. */
  public Route route() {
    return path("metrics", () -> get(() -> complete(HttpResponse.create()
        .withEntity(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape()))));
  }

  /** Counts and times every response of {@code inner} (time to the response head). */
  public Route instrument(Supplier<Route> inner) {
    return extractRequest(request -> {
      long start = System.nanoTime();
      return mapResponse(response -> {
        metrics.httpResponse(response.status().intValue(), Duration.ofNanos(System.nanoTime() - start));
        return response;
      }, inner);
    });
  }
}
