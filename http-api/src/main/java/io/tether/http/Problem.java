package io.tether.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * An RFC 9457 problem body: every error Tether answers over HTTP is one of these, served as
 * {@code application/problem+json}.
 *
 * @param type a URI naming the kind of problem; {@code about:blank} when the status says it all
 * @param title a short, human-readable summary of the kind of problem
 * @param status the HTTP status code, repeated for clients that only see the body
 * @param detail what went wrong with this request, in words a client developer can act on
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail) {

  /** The media type of every problem body. */
  public static final ContentType.NonBinary CONTENT_TYPE =
      ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8));

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A problem of the given status whose title is the status's reason phrase. */
  public static Problem of(StatusCode status, String detail) {
    return new Problem("about:blank", status.reason(), status.intValue(), detail);
  }

  /** This problem as a complete HTTP response. */
  public HttpResponse toResponse() {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(status))
        .withEntity(CONTENT_TYPE, toJson());
  }

  /** This problem serialized as JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a problem record always serializes", e);
    }
  }

  /** Shorthand for {@code Problem.of(status, detail).toResponse()}. */
  public static HttpResponse response(StatusCode status, String detail) {
    return of(status, detail).toResponse();
  }
}
