package io.tether.http.health;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.tether.http.Problem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /health}: the process is alive and serving HTTP (a liveness probe).
 * {@code GET /ready}: this node is an Up member of the cluster and the journal answers
 * (a readiness probe); 503 with a problem body naming what is missing otherwise.
 */
public final class HealthRoutes {
  private final Cluster cluster;
  private final JournalProbe journal;

  public HealthRoutes(ActorSystem<?> system, JournalProbe journal) {
    this.cluster = Cluster.get(system);
    this.journal = journal;
  }

  public Route route() {
    return get(() -> concat(
        path("health", () -> complete(HttpResponse.create()
            .withEntity(ContentTypes.APPLICATION_JSON, "{\"status\":\"alive\"}"))),
        path("ready", () -> onSuccess(journal.reachable(), this::readiness))));
  }

  private Route readiness(boolean journalReachable) {
    boolean memberUp = cluster.selfMember().status() == MemberStatus.up();
    if (memberUp && journalReachable) {
      return complete(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          "{\"status\":\"ready\",\"member\":\"up\",\"journal\":\"reachable\"}"));
    }
    String detail = (memberUp ? "" : "this node is not an Up cluster member ("
        + cluster.selfMember().status() + ")" + (journalReachable ? "" : "; "))
        + (journalReachable ? "" : "the journal (Cassandra) is unreachable");
    return complete(Problem.response(StatusCodes.SERVICE_UNAVAILABLE, detail));
  }
}
