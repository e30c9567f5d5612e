package io.tether.http.ops;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.tether.actors.metrics.TetherMetrics;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /metrics}: the node's Prometheus metrics ({@link TetherMetrics}), and the
 * directive that counts and times every HTTP response. Scrape it from inside the cluster's
 * network; it reveals load, not data.
 */
public final class MetricsRoutes {
  private final TetherMetrics metrics;

  public MetricsRoutes(ActorSystem<?> system) {
    this.metrics = TetherMetrics.get(system);
  }

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
