package io.tether.http.runs;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.actors.harness.Harness;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunIndex;
import io.tether.actors.harness.run.RunSummary;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import io.tether.http.Problem;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.pattern.StatusReply;

/**
 * REST for harness runs.
 *
 * <pre>
 * POST /runs                 create: 201 {runId, sessionId, ...} and Location /runs/{id}
 * GET  /runs?limit=N         the most recent runs, newest first
 * GET  /runs/{id}            describe
 * POST /runs/{id}/cancel     {"reason": "..."} (optional body)
 * POST /runs/{id}/steer      {"text": "..."}: goes with the next role task
 * POST /runs/{id}/pause      holds the run before its next task
 * POST /runs/{id}/resume
 * </pre>
 *
 * <p>Creating a run registers it in the {@link RunIndex}, creates its session (a JSON durable
 * stream, id {@code run-<run id>}) so a client can subscribe before the first event, and starts
 * the {@link Run}. Every ask uses {@code tether.harness.ask-timeout}; a timeout is a 503.
 */
public final class RunRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Session.CreateSpec JSON_SESSION = new Session.CreateSpec(
      "application/json", null, null, null, false, List.of(), null, null, List.of());

  private final ClusterSharding sharding;
  private final SessionStreams sessions;
  private final Harness harness;
  private final Duration askTimeout;
  private final RunFollower follower;

  public RunRoutes(ActorSystem<?> system, SessionStreams streams) {
    this.sharding = ClusterSharding.get(system);
    this.harness = Harness.get(system);
    this.askTimeout = harness.settings().askTimeout();
    this.sessions = streams.withAskTimeout(askTimeout);
    this.follower = new RunFollower(sharding, askTimeout, Duration.ofMillis(500));
  }

  /** The routes under {@code /runs}. */
  public Route route() {
    return pathPrefix("runs", () -> concat(
        pathEndOrSingleSlash(() -> concat(
            post(() -> parameterOptional("follow", follow -> entity(
                Unmarshaller.entityToString(), body -> completeWithFuture(
                    create(body, follow.map("true"::equals).orElse(false)))))),
            get(() -> parameterOptional("limit", limit -> {
              Integer n = limit.isPresent() ? parseLimit(limit.get()) : Integer.valueOf(50);
              return n == null
                  ? org.apache.pekko.http.javadsl.server.Directives.complete(io.tether.http.Problem.response(StatusCodes.BAD_REQUEST,
                      "limit must be a whole number from 1 to 500"))
                  : completeWithFuture(list(n));
            })))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> get(() -> completeWithFuture(
                control(id, RunCommand.Describe::new, StatusCodes.OK)))),
            path("follow", () -> get(() -> completeWithFuture(
                sharding.entityRefFor(Run.ENTITY_TYPE_KEY, id)
                    .askWithStatus(RunCommand.Describe::new, askTimeout)
                    .thenApply(summary -> follower.follow(id, summary))
                    .exceptionally(RunRoutes::problem)))),
            path("cancel", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
                completeWithFuture(control(id, r -> RunCommand.Cancel.direct(
                    field(body, "reason"), r), StatusCodes.OK))))),
            path("steer", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
                completeWithFuture(control(id, r -> RunCommand.SteerRun.direct(
                    field(body, "text"), r), StatusCodes.ACCEPTED))))),
            path("pause", () -> post(() -> completeWithFuture(
                control(id, RunCommand.Pause::new, StatusCodes.OK)))),
            path("resume", () -> post(() -> completeWithFuture(
                control(id, RunCommand.Resume::new, StatusCodes.OK))))))));
  }

  private static Integer parseLimit(String text) {
    try {
      int n = Integer.parseInt(text.trim());
      return n >= 1 && n <= 500 ? n : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String field(String body, String name) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      return JSON.readTree(body).path(name).asText(null);
    } catch (Exception e) {
      return null;
    }
  }

  private CompletionStage<HttpResponse> create(String body, boolean follow) {
    RunRequests.CreateRun request;
    try {
      JsonNode json = JSON.readTree(body);
      request = RunRequests.parse(json, harness.settings().defaultPolicy(), harness.providers(),
          harness.pricing(), harness.mcp(), harness.settings().defaultModels());
      if (request.policy().egress()) {
        java.util.Optional<String> refusal = harness.tools().egressRefusal();
        if (refusal.isPresent()) {
          return done(Problem.response(StatusCodes.BAD_REQUEST, refusal.get()));
        }
      }
    } catch (IllegalArgumentException e) {
      return done(Problem.response(StatusCodes.BAD_REQUEST, e.getMessage()));
    } catch (Exception e) {
      return done(Problem.response(StatusCodes.BAD_REQUEST, "the body is not JSON"));
    }
    String runId = UUID.randomUUID().toString();
    String sessionId = "run-" + runId;
    RunIndex.Entry entry = new RunIndex.Entry(runId, sessionId, request.prompt(),
        System.currentTimeMillis());
    CompletionStage<RunSummary> started = sharding
        .entityRefFor(RunIndex.ENTITY_TYPE_KEY, RunIndex.ALL)
        .<RunIndex.Entry>ask(r -> new RunIndex.Register(entry, r), askTimeout)
        .thenCompose(e -> sessions.create(sessionId, JSON_SESSION))
        .thenCompose(created -> sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
            .askWithStatus(r -> new RunCommand.Start(request.prompt(), request.models(),
                request.policy(), sessionId, r), askTimeout));
    return started.thenApply(summary -> (follow ? follower.follow(runId, summary)
                : json(StatusCodes.CREATED, RunView.of(summary)))
            .addHeader(Location.create("/runs/" + runId)))
        .exceptionally(RunRoutes::problem);
  }

  private CompletionStage<HttpResponse> list(int limit) {
    return sharding.entityRefFor(RunIndex.ENTITY_TYPE_KEY, RunIndex.ALL)
        .<RunIndex.Entries>ask(r -> new RunIndex.ListRuns(Math.max(1, Math.min(limit, 500)), r),
            askTimeout)
        .thenCompose(entries -> {
          List<CompletableFuture<RunView>> views = entries.entries().stream()
              .map(e -> sharding.entityRefFor(Run.ENTITY_TYPE_KEY, e.runId())
                  .askWithStatus(RunCommand.Describe::new, askTimeout)
                  .thenApply(RunView::of)
                  .exceptionally(error -> null)
                  .toCompletableFuture())
              .toList();
          return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
              .thenApply(v -> views.stream().map(CompletableFuture::join)
                  .filter(java.util.Objects::nonNull).toList());
        })
        .thenApply(runs -> json(StatusCodes.OK, java.util.Map.of("runs", runs)))
        .exceptionally(RunRoutes::problem);
  }

  private CompletionStage<HttpResponse> control(String runId,
      Function<ActorRef<StatusReply<RunSummary>>, RunCommand> command, StatusCode ok) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .askWithStatus(command::apply, askTimeout)
        .thenApply(summary -> json(ok, RunView.of(summary)))
        .exceptionally(RunRoutes::problem);
  }

  private static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (Exception e) {
      throw new IllegalStateException("a run view always serializes", e);
    }
  }

  /** Maps the Run's refusals and ask failures to problem bodies. */
  private static HttpResponse problem(Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    if (e instanceof StatusReply.ErrorMessage refusal) {
      String message = refusal.getMessage();
      if (message.startsWith("no run ")) {
        return Problem.response(StatusCodes.NOT_FOUND, message);
      }
      if (message.contains("is not running")) {
        return Problem.response(StatusCodes.CONFLICT, message);
      }
      return Problem.response(StatusCodes.BAD_REQUEST, message);
    }
    if (e instanceof TimeoutException) {
      return Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
          "the run did not answer in time; retry");
    }
    throw new CompletionException(e);
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
