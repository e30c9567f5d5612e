package io.tether.http;

import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.Directives;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every rejection and every unexpected exception into a problem body, so no client ever
 * sees Pekko HTTP's plain-text defaults. An unexpected exception is logged with its stack trace
 * and answered 500 without internals; routes are expected to map every known failure to a 4xx
 * or 503 themselves.
 */
public final class ProblemHandlers {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandlers.class);

  private ProblemHandlers() {}

  /** Wraps {@code inner} so that its rejections and exceptions become problem bodies. */
  public static Route wrap(Route inner) {
    return Directives.handleExceptions(exceptions(),
        () -> Directives.handleRejections(rejections(), () -> inner));
  }

  /** Pekko's default rejection handling, with every response body rewritten as a problem. */
  public static RejectionHandler rejections() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(ProblemHandlers::asProblem);
  }

  /** Unexpected exceptions become a 500 problem; the detail never carries the exception text. */
  public static ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .matchAny(e -> {
          log.error("Unhandled exception in a route", e);
          return Directives.complete(Problem.response(StatusCodes.INTERNAL_SERVER_ERROR,
              "The server failed to handle the request; it has been logged."));
        })
        .build();
  }

  private static HttpResponse asProblem(HttpResponse response) {
    if (response.entity().getContentType().mediaType().equals(Problem.CONTENT_TYPE.mediaType())) {
      return response;
    }
    String detail = response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
        ? strict.getData().utf8String()
        : response.status().reason();
    return HttpResponse.create()
        .withStatus(response.status())
        .addHeaders(response.getHeaders())
        .withEntity(Problem.CONTENT_TYPE, Problem.of(response.status(), detail).toJson());
  }
}
