package io.tether.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests too malformed to reach the routes (URI too long, headers too large, an
 * unparsable request line or header) with a problem body instead of Pekko HTTP's plain text, so
 * a client sees {@code application/problem+json} for every 4xx. The detail is the parser's
 * one-line summary, never a stack trace. {@link HttpServer} installs it on every binding.
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log,
      ServerSettings settings) {
    if (settings.verboseErrorMessages()) {
      log.warning("Illegal request: {}", error.formatPretty());
    } else {
      log.debug("Illegal request: {}", error.summary());
    }
    return Problem.response(StatusCodes.get(status.intValue()), error.summary());
  }
}
