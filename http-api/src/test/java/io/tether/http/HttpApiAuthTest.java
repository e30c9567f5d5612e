package io.tether.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.Harness;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionDirectory;
import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole API as a node composes it ({@link HttpApi#routes}), with authentication on: the
 * operator issues a token at {@code /admin/tokens}, and that token, its scope and its absence
 * decide every runs and streams operation.
 */
class HttpApiAuthTest {
  private static final String TOKEN_SECRET = "http-api-auth-test-secret-0123456789abcdef";
  private static final String ADMIN_SECRET = "operator-secret-0123456789";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ActorSystem<Void> system;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    Config config = ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            tether.http.ask-timeout = 15s
            tether.auth.enabled = on
            tether.auth.token-secret = "%s"
            tether.auth.admin-secret = "%s"
            """.formatted(TOKEN_SECRET, ADMIN_SECRET))
        .withFallback(TestCassandra.get().configFor("HttpApiAuthTest"))
        .withFallback(ConfigFactory.parseResources("tether.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    system = ActorSystem.create(Behaviors.empty(), "HttpApiAuthTest", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    SessionDirectory.init(system);
    Harness.init(system);
    ServerBinding binding = HttpServer.start(system, HttpApi.routes(system, TestNodeConfig.streams(system)), "127.0.0.1", 0)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    base = HttpServer.baseUrl(binding);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static HttpResponse<String> send(String method, String path, String body, String bearer)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String issue(String grantsJson) throws Exception {
    HttpResponse<String> r = send("POST", "/admin/tokens",
        "{\"subject\":\"user-1\",\"grants\":" + grantsJson + ",\"ttlSeconds\":600}", ADMIN_SECRET);
    assertEquals(201, r.statusCode(), r.body());
    return JSON.readTree(r.body()).path("token").asText();
  }

  @Test
  void tokenIssuingNeedsTheAdminSecretAndAWellFormedRequest() throws Exception {
    assertEquals(401, send("POST", "/admin/tokens", "{}", "wrong").statusCode());
    HttpResponse<String> bad = send("POST", "/admin/tokens", "{\"subject\":\"u\",\"grants\":[{\"capabilities\":[\"fly\"],\"sessions\":[\"*\"]}]}", ADMIN_SECRET);
    assertEquals(400, bad.statusCode());
    assertTrue(bad.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
    assertEquals(400, send("POST", "/admin/tokens", "{not json", ADMIN_SECRET).statusCode());
  }

  @Test
  void anIssuedTokenOpensExactlyTheStreamsItNames() throws Exception {
    String token = issue("[{\"capabilities\":[\"publish\",\"subscribe\"],\"sessions\":[\"mine-*\"]}]");
    assertEquals(401, send("PUT", "/v1/stream/mine-1", null, null).statusCode());
    assertEquals(201, send("PUT", "/v1/stream/mine-1", null, token).statusCode());
    assertEquals(403, send("PUT", "/v1/stream/yours-1", null, token).statusCode());
    assertEquals(403, send("DELETE", "/v1/stream/mine-1", null, token).statusCode(),
        "delete needs control");
    assertEquals(200, send("GET", "/v1/stream/mine-1?offset=-1", null, token).statusCode());
  }

  @Test
  void aForkIsAuthorizedOnTheStreamItActuallyReads() throws Exception {
    String operator = issue("[{\"capabilities\":[\"publish\",\"subscribe\"],\"sessions\":[\"*\"]}]");
    assertEquals(201, send("PUT", "/v1/stream/victim-secret", null, operator).statusCode());
    assertEquals(204, send("POST", "/v1/stream/victim-secret", "{\"secret\":\"s3cr3t\"}", operator)
        .statusCode());
    assertEquals(201, send("PUT", "/v1/stream/chat-42-own", null, operator).statusCode());
    assertEquals(204, send("POST", "/v1/stream/chat-42-own", "{\"mine\":1}", operator).statusCode());

    String limited = issue("[{\"capabilities\":[\"publish\",\"subscribe\"],\"sessions\":[\"chat-42-*\"]}]");
    // Every spelling of a reference to the victim: a URL whose authority matches the grant's
    // prefix (the finding), URLs and paths of every shape, stray whitespace, header casing.
    String[] references = {
        "chat-42-://x/victim-secret",
        "chat-42-://x/v1/stream/victim-secret",
        "http://chat-42-host/v1/stream/victim-secret",
        "https://example.com/victim-secret",
        "/v1/stream/victim-secret",
        "/victim-secret",
        "victim-secret",
        "  /v1/stream/victim-secret  ",
    };
    int fork = 0;
    for (String reference : references) {
      for (String header : new String[] {"Stream-Forked-From", "stream-forked-from"}) {
        String target = "/v1/stream/chat-42-f" + (fork++);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + target))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + limited)
            .header(header, reference)
            .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, r.statusCode(), header + ": " + reference + " -> " + r.body());
        HttpResponse<String> read = send("GET", target + "?offset=-1", null, limited);
        assertEquals(404, read.statusCode(), "no fork was created for " + reference);
        assertTrue(!read.body().contains("s3cr3t"), read.body());
      }
    }
    // The grant still covers forks of what it may read, in each spelling.
    for (String reference : new String[] {"/v1/stream/chat-42-own", "chat-42-own",
        "http://any-host/v1/stream/chat-42-own"}) {
      String target = "/v1/stream/chat-42-f" + (fork++);
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + target))
          .header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + limited)
          .header("Stream-Forked-From", reference)
          .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(201, r.statusCode(), reference + " -> " + r.body());
      HttpResponse<String> read = send("GET", target + "?offset=-1", null, limited);
      assertEquals(200, read.statusCode(), read.body());
      assertTrue(read.body().contains("\"mine\":1"), read.body());
    }
  }

  @Test
  void runsNeedTheirSessionsCapabilities() throws Exception {
    String body = "{\"prompt\":\"A command-line tool that turns titles into URL slugs.\",\"model\":\"scripted:demo\"}";
    assertEquals(401, send("POST", "/runs", body, null).statusCode());
    String watcher = issue("[{\"capabilities\":[\"subscribe\"],\"sessions\":[\"run-*\"]}]");
    assertEquals(403, send("POST", "/runs", body, watcher).statusCode());
    String owner = issue("[{\"capabilities\":[\"publish\",\"subscribe\",\"control\"],\"sessions\":[\"run-*\"]}]");
    HttpResponse<String> created = send("POST", "/runs", body, owner);
    assertEquals(201, created.statusCode(), created.body());
    String runId = JSON.readTree(created.body()).path("runId").asText();

    assertEquals(200, send("GET", "/runs/" + runId, null, watcher).statusCode());
    assertEquals(200, send("GET", "/runs", null, watcher).statusCode());
    HttpResponse<String> badLimit = send("GET", "/runs?limit=abc", null, watcher);
    assertEquals(400, badLimit.statusCode(), badLimit.body());
    assertTrue(badLimit.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
    assertEquals(400, send("GET", "/runs?limit=0", null, watcher).statusCode());
    assertEquals(403, send("POST", "/runs/" + runId + "/pause", null, watcher).statusCode(),
        "watching a run does not allow controlling it");
    String otherRun = issue("[{\"capabilities\":[\"control\",\"subscribe\"],\"sessions\":[\"run-other\"]}]");
    assertEquals(403, send("GET", "/runs/" + runId, null, otherRun).statusCode());
    assertEquals(403, send("POST", "/runs/" + runId + "/cancel", "{}", otherRun).statusCode());
    HttpResponse<String> cancelled = send("POST", "/runs/" + runId + "/cancel", "{\"reason\":\"test\"}", owner);
    assertTrue(cancelled.statusCode() == 200 || cancelled.statusCode() == 409, cancelled.body());
  }

  @Test
  void healthAndMetricsNeedNoToken() throws Exception {
    assertEquals(200, send("GET", "/health", null, null).statusCode());
    HttpResponse<String> metrics = send("GET", "/metrics", null, null);
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("tether_http_requests_total"), metrics.body());
  }
}
