package io.tether.http.live;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionDirectory;
import io.tether.actors.session.SessionStreams;
import io.tether.http.Problem;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.Capability;
import io.tether.http.auth.Principal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The REST API for JSON sessions, every error an {@code application/problem+json} body, every
 * operation checked against the caller's capability token:
 *
 * <ul>
 *   <li>{@code POST /v1/sessions} (publish on the id): create, idempotent; listed under the
 *       caller's subject.
 *   <li>{@code GET /v1/sessions}: the caller's sessions it may still subscribe to.
 *   <li>{@code GET /v1/sessions/{id}} (subscribe): tail, presence, cursors with unread counts,
 *       runs and fences.
 *   <li>{@code POST /v1/sessions/{id}/close} and {@code DELETE /v1/sessions/{id}} (control).
 *   <li>{@code POST /v1/sessions/{id}/control} (control): cancel, steer, interrupt over HTTP.
 *   <li>{@code POST /v1/sessions/{id}/cursors} (subscribe): move a device's read cursor.
 *   <li>{@code GET /openapi.json}: the OpenAPI document of this API (no token needed).
 * </ul>
 */
public final class SessionRoutes {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._~:@!$'()+,;=-]{1,200}");

  private final Authenticator auth;
  private final SessionStreams streams;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final String openApi;

  public SessionRoutes(ActorSystem<?> system, Authenticator auth, SessionStreams streams) {
    this.auth = auth;
    this.askTimeout = system.settings().config().getDuration("tether.http.ask-timeout");
    this.streams = streams;
    this.sharding = ClusterSharding.get(system);
    this.openApi = resource("/io/tether/http/live/openapi.json");
  }

  /** The routes. */
  public Route route() {
    return concat(
        path("openapi.json", () -> get(() -> complete(HttpResponse.create()
            .withEntity(ContentTypes.APPLICATION_JSON, openApi)))),
        pathPrefix("v1", () -> pathPrefix("sessions", () -> concat(
            pathEnd(() -> concat(
                post(() -> entity(Unmarshaller.entityToString(), body ->
                    auth.authenticated(p -> create(p, body)))),
                get(() -> auth.authenticated(this::list)))),
            pathPrefix(PathMatchers.segment(), id -> concat(
                pathEnd(() -> concat(
                    get(() -> auth.authorize(Capability.SUBSCRIBE, id,
                        () -> completeWithFuture(describe(id)))),
                    delete(() -> auth.authenticated(p -> guarded(p, Capability.CONTROL, id,
                        () -> completeWithFuture(remove(p, id))))))),
                path("close", () -> post(() -> auth.authorize(Capability.CONTROL, id,
                    () -> completeWithFuture(close(id))))),
                path("control", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
                    auth.authenticated(p -> guarded(p, Capability.CONTROL, id,
                        () -> completeWithFuture(control(p, id, body))))))),
                path("cursors", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
                    auth.authorize(Capability.SUBSCRIBE, id,
                        () -> completeWithFuture(cursor(id, body))))))))))));
  }

  private static Route guarded(Principal p, Capability capability, String id,
      Supplier<Route> inner) {
    return p.may(capability, id) ? inner.get() : complete(Problem.response(StatusCodes.FORBIDDEN,
        "the token does not grant " + capability.wireName() + " on session '" + id + "'"));
  }

  private Route create(Principal principal, String body) {
    SessionViews.CreateRequest request;
    try {
      request = body.isBlank() ? new SessionViews.CreateRequest(null, null)
          : JSON.readValue(body, SessionViews.CreateRequest.class);
    } catch (JsonProcessingException e) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST, "the body is not valid JSON"));
    }
    String id = request.id() != null ? request.id() : "s-" + UUID.randomUUID();
    if (!ID.matcher(id).matches()) {
      return complete(Problem.response(StatusCodes.BAD_REQUEST,
          "a session id is 1 to 200 URL-safe characters, never * (the wildcard of grants)"));
    }
    if (!principal.may(Capability.PUBLISH, id)) {
      return complete(Problem.response(StatusCodes.FORBIDDEN,
          "the token does not grant publish on session '" + id + "'"));
    }
    Session.CreateSpec spec = new Session.CreateSpec("application/json", null, null, null,
        false, List.of(), null, null, List.of());
    return auth.quotas().creating(principal, id, () -> completeWithFuture(
        createSession(principal, id, spec)));
  }

  private CompletionStage<HttpResponse> createSession(Principal principal, String id,
      Session.CreateSpec spec) {
    CompletionStage<HttpResponse> response = streams.create(id, spec).thenCompose(reply -> {
      if (reply instanceof Session.CreateConflict conflict) {
        return done(Problem.response(StatusCodes.CONFLICT, conflict.detail()));
      }
      boolean created = reply instanceof Session.Created;
      return directory(principal.subject())
          .<Done>ask(replyTo -> new SessionDirectory.Add(id, replyTo), askTimeout)
          .thenCompose(d -> describeView(id, null))
          .thenApply(view -> view.map(v -> json(created ? StatusCodes.CREATED : StatusCodes.OK, v))
              .orElseGet(() -> Problem.response(StatusCodes.NOT_FOUND, "no such session")));
    });
    return response.exceptionally(SessionRoutes::unavailable);
  }

  private Route list(Principal principal) {
    CompletionStage<HttpResponse> response = directory(principal.subject())
        .<SessionDirectory.Listing>ask(SessionDirectory.Get::new, askTimeout)
        .thenCompose(listing -> {
          List<CompletableFuture<Optional<SessionViews.SessionView>>> views = new ArrayList<>();
          for (Map.Entry<String, Long> entry : listing.sessions().entrySet()) {
            if (principal.may(Capability.SUBSCRIBE, entry.getKey())) {
              views.add(describeView(entry.getKey(), entry.getValue()).toCompletableFuture());
            }
          }
          return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
              .thenApply(all -> {
                List<SessionViews.SessionView> found = new ArrayList<>();
                views.forEach(v -> v.join().ifPresent(found::add));
                return json(StatusCodes.OK, new SessionViews.SessionList(found));
              });
        });
    return completeWithFuture(response.exceptionally(SessionRoutes::unavailable));
  }

  private CompletionStage<HttpResponse> describe(String id) {
    return describeView(id, null).thenApply(view -> view
        .map(v -> json(StatusCodes.OK, v))
        .orElseGet(() -> Problem.response(StatusCodes.NOT_FOUND, "no session '" + id + "'")))
        .exceptionally(SessionRoutes::unavailable);
  }

  private CompletionStage<Optional<SessionViews.SessionView>> describeView(String id,
      Long createdAt) {
    return session(id).<Session.SessionSummary>ask(Session.DescribeSession::new, askTimeout)
        .thenApply(summary -> summary.lookup() == Session.Lookup.FOUND
            ? Optional.of(SessionViews.view(id, summary, createdAt)) : Optional.empty());
  }

  private CompletionStage<HttpResponse> remove(Principal principal, String id) {
    return streams.delete(id).thenCompose(deleted -> directory(principal.subject())
            .<Done>ask(replyTo -> new SessionDirectory.Remove(id, replyTo), askTimeout)
            .thenApply(d -> switch (deleted.lookup()) {
              case FOUND -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
              case GONE -> Problem.response(StatusCodes.GONE, "the session has been deleted");
              case NOT_FOUND -> Problem.response(StatusCodes.NOT_FOUND, "no session '" + id + "'");
            }))
        .exceptionally(SessionRoutes::unavailable);
  }

  private CompletionStage<HttpResponse> close(String id) {
    return streams.append(id, new Session.AppendSpec(null, List.of(), null, null, true))
        .thenCompose(reply -> {
          if (reply instanceof Session.AppendRejected rejected) {
            return done(rejected.failure() == Session.AppendFailure.NOT_FOUND
                ? Problem.response(StatusCodes.NOT_FOUND, "no session '" + id + "'")
                : Problem.response(StatusCodes.CONFLICT, "cannot close: " + rejected.failure()));
          }
          return describe(id);
        })
        .exceptionally(SessionRoutes::unavailable);
  }

  private CompletionStage<HttpResponse> control(Principal principal, String id, String body) {
    SessionViews.ControlRequest request;
    try {
      request = JSON.readValue(body, SessionViews.ControlRequest.class);
    } catch (JsonProcessingException e) {
      return done(Problem.response(StatusCodes.BAD_REQUEST, "the body is not valid JSON"));
    }
    if (request.type() == null) {
      return done(Problem.response(StatusCodes.BAD_REQUEST,
          "'type' is cancel, steer or interrupt"));
    }
    String controlId = request.id() != null ? request.id() : "c-" + UUID.randomUUID();
    Session.ControlSpec spec = new Session.ControlSpec(request.type(), controlId, request.run(),
        request.message(), request.text(), principal.subject(), null);
    return session(id).<Session.ControlReply>ask(replyTo -> new Session.Control(spec, replyTo),
            askTimeout)
        .thenApply(reply -> {
          if (reply instanceof Session.ControlAccepted accepted) {
            boolean cancel = request.type().equals("cancel");
            return json(StatusCodes.OK, new SessionViews.ControlView(controlId, request.type(),
                accepted.offset().encode(), cancel ? accepted.offset().encode() : null));
          }
          Session.ControlRejected rejected = (Session.ControlRejected) reply;
          StatusCode status = switch (rejected.code()) {
            case "not-found" -> StatusCodes.NOT_FOUND;
            case "invalid" -> StatusCodes.BAD_REQUEST;
            case "overloaded" -> StatusCodes.SERVICE_UNAVAILABLE;
            default -> StatusCodes.CONFLICT;
          };
          return Problem.response(status, rejected.code() + ": " + rejected.detail());
        })
        .exceptionally(SessionRoutes::unavailable);
  }

  private CompletionStage<HttpResponse> cursor(String id, String body) {
    SessionViews.CursorRequest request;
    try {
      request = JSON.readValue(body, SessionViews.CursorRequest.class);
    } catch (JsonProcessingException e) {
      return done(Problem.response(StatusCodes.BAD_REQUEST, "the body is not valid JSON"));
    }
    Optional<Offset> offset = Offset.parse(request.offset());
    if (request.device() == null || offset.isEmpty()) {
      return done(Problem.response(StatusCodes.BAD_REQUEST, "'device' and 'offset' are required"));
    }
    session(id).tell(new Session.AckCursor(request.device(), offset.get()));
    return done(HttpResponse.create().withStatus(StatusCodes.ACCEPTED));
  }

  private EntityRef<Session.Command> session(String id) {
    return sharding.entityRefFor(Session.ENTITY_TYPE_KEY, id);
  }

  private EntityRef<SessionDirectory.Command> directory(String subject) {
    return sharding.entityRefFor(SessionDirectory.ENTITY_TYPE_KEY, subject);
  }

  private static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("views always serialize", e);
    }
  }

  private static HttpResponse unavailable(Throwable error) {
    return Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
        "the session did not answer in time; retry");
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private static String resource(String name) {
    try (InputStream in = SessionRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + name, e);
    }
  }
}
