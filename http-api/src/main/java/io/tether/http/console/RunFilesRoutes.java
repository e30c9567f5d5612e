package io.tether.http.console;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.workspace.ShardedWorkspaceStore;
import io.tether.actors.harness.workspace.WorkspaceStore;
import io.tether.http.Problem;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.Capability;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /runs/{id}/files}: the files of a run's workspace (spec, contracts, evaluations,
 * progress, report and whatever the roles wrote), read-only, as
 * {@code {"version": n, "files": {"path": "content", ...}}} sorted by path. The run dashboard
 * of the console shows them; any client may read them. A run with no workspace has no files
 * (an empty map, not a 404): the workspace exists from the first write. A timeout of the
 * workspace entity is a 503 problem. Reading needs {@code subscribe} on the run's session
 * ({@code run-<id>}): whoever may watch a run may read what it wrote.
 */
public final class RunFilesRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final WorkspaceStore workspace;
  private final Authenticator auth;

  public RunFilesRoutes(ActorSystem<?> system, Authenticator auth) {
    this(new ShardedWorkspaceStore(system), auth);
  }

  RunFilesRoutes(WorkspaceStore workspace, Authenticator auth) {
    this.workspace = workspace;
    this.auth = auth;
  }

  /**
   * The routes of {@code GET /runs/{id}/files} (every file, as JSON) and {@code GET
   * /runs/{id}/files/<path>} (one file: an image kept as base64 text, a browser's screenshot
   * under {@code screenshots/}, is served decoded with its image type; any other file as text).
   */
  public Route route() {
    return pathPrefix("runs", () -> pathPrefix(PathMatchers.segment(), runId ->
        pathPrefix("files", () -> get(() -> auth.authorize(Capability.SUBSCRIBE, "run-" + runId,
            () -> org.apache.pekko.http.javadsl.server.Directives.concat(
                org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash(
                    () -> completeWithFuture(files(runId))),
                org.apache.pekko.http.javadsl.server.Directives.path(
                    PathMatchers.remaining(), rest -> completeWithFuture(file(runId, rest)))))))));
  }

  private CompletionStage<HttpResponse> file(String runId, String path) {
    return workspace.files(runId).thenApply(files -> {
      Map<String, String> all = files.files() == null ? Map.of() : files.files();
      String lower = path.toLowerCase(java.util.Locale.ROOT);
      boolean image = lower.endsWith(".png") || lower.endsWith(".jpg");
      if (image && all.containsKey(path + ".base64")) {
        byte[] bytes;
        try {
          bytes = java.util.Base64.getDecoder().decode(all.get(path + ".base64"));
        } catch (IllegalArgumentException e) {
          return Problem.response(StatusCodes.UNPROCESSABLE_ENTITY, path + " is not an image");
        }
        return HttpResponse.create().withStatus(StatusCodes.OK).withEntity(
            org.apache.pekko.http.javadsl.model.ContentTypes.create(lower.endsWith(".png")
                ? org.apache.pekko.http.javadsl.model.MediaTypes.IMAGE_PNG
                : org.apache.pekko.http.javadsl.model.MediaTypes.IMAGE_JPEG), bytes);
      }
      if (!all.containsKey(path)) {
        return Problem.response(StatusCodes.NOT_FOUND, "run " + runId + " has no file " + path);
      }
      return HttpResponse.create().withStatus(StatusCodes.OK)
          .withEntity(ContentTypes.TEXT_PLAIN_UTF8, all.get(path));
    }).exceptionally(error -> Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
        "the run's workspace did not answer in time; retry"));
  }

  private CompletionStage<HttpResponse> files(String runId) {
    return workspace.files(runId).thenApply(files -> {
      ObjectNode body = JSON.createObjectNode();
      body.put("version", files.version());
      body.putPOJO("files", new TreeMap<>(files.files() == null ? Map.of() : files.files()));
      try {
        return HttpResponse.create().withStatus(StatusCodes.OK)
            .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    }).exceptionally(error -> Problem.response(StatusCodes.SERVICE_UNAVAILABLE,
        "the run's workspace did not answer in time; retry"));
  }
}
