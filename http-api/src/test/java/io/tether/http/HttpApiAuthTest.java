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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.apache.pekko.management.javadsl.PekkoManagement;
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
  private static String management;

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
            pekko.management.http.hostname = "127.0.0.1"
            pekko.management.http.port = 0
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
    management = PekkoManagement.get(system.classicSystem()).start()
        .toCompletableFuture().get(30, TimeUnit.SECONDS).toString().replaceAll("/+$", "");
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
    assertEquals(200, send("GET", "/runs/" + runId + "/files", null, watcher).statusCode(),
        "whoever may watch a run may read its files");
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
  void metricsAreServedOnTheManagementPortNotThePublicOne() throws Exception {
    assertEquals(200, send("GET", "/health", null, null).statusCode());
    HttpResponse<String> publicMetrics = send("GET", "/metrics", null, null);
    assertEquals(404, publicMetrics.statusCode(), publicMetrics.body());
    assertTrue(!publicMetrics.body().contains("tether_"), publicMetrics.body());
    HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(
        URI.create(management + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("tether_http_requests_total"), metrics.body());
  }

  private static void assertProblem(int status, HttpResponse<String> r, String detailPart) {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("")
        .startsWith("application/problem+json"), r.headers().toString());
    assertTrue(r.body().contains(detailPart), r.body());
  }

  @Test
  void theOperatorSecretIsAcceptedOnlyInTheAuthorizationHeader() throws Exception {
    String body = "{\"subject\":\"u\",\"grants\":[{\"capabilities\":[\"subscribe\"],"
        + "\"sessions\":[\"a\"]}]}";
    assertProblem(401, send("POST", "/admin/tokens?access_token=" + ADMIN_SECRET, body, null),
        "only in the Authorization header");
    assertProblem(401, send("POST", "/admin/tokens?access_token=" + ADMIN_SECRET, body,
        ADMIN_SECRET), "only in the Authorization header");
    assertEquals(201, send("POST", "/admin/tokens", body, ADMIN_SECRET).statusCode());
  }

  @Test
  void aQueryTokenIsAcceptedOnlyWhereAHeaderIsImpossible() throws Exception {
    String token = issue("[{\"capabilities\":[\"publish\",\"subscribe\",\"control\"],"
        + "\"sessions\":[\"q-*\",\"run-*\"]}]");
    assertEquals(201, send("PUT", "/v1/stream/q-1", null, token).statusCode());
    assertEquals(204, send("POST", "/v1/stream/q-1", "{\"n\":1}", token).statusCode());
    String q = "access_token=" + token;
    String[][] refused = {
        {"PUT", "/v1/stream/q-2?" + q, null},
        {"POST", "/v1/stream/q-1?" + q, "{\"n\":2}"},
        {"DELETE", "/v1/stream/q-1?" + q, null},
        {"HEAD", "/v1/stream/q-1?" + q, null},
        {"GET", "/v1/stream/q-1?offset=-1&" + q, null},
        {"GET", "/v1/stream/q-1?offset=-1&live=long-polls&" + q, null},
        {"POST", "/v1/stream/q-1?live=sse&" + q, "{\"n\":3}"},
        {"POST", "/v1/sessions?" + q, "{\"id\":\"q-3\"}"},
        {"GET", "/v1/sessions?" + q, null},
        {"GET", "/v1/sessions/q-1?" + q, null},
        {"POST", "/v1/sessions/q-1/control?" + q, "{\"type\":\"cancel\",\"run\":\"r\"}"},
        {"GET", "/runs?" + q, null},
        {"GET", "/runs/x?" + q, null},
        {"POST", "/runs/x/cancel?" + q, "{}"},
    };
    for (String[] r : refused) {
      HttpResponse<String> answer = send(r[0], r[1], r[2], null);
      assertEquals(401, answer.statusCode(), r[0] + " " + r[1] + " -> " + answer.body());
      if (!r[0].equals("HEAD")) {
        assertProblem(401, answer, "access_token in the query string is accepted only");
      }
      assertEquals(401, send(r[0], r[1], r[2], token).statusCode(),
          "a query token is refused even next to a header: " + r[0] + " " + r[1]);
    }
    assertEquals(1, JSON.readTree(send("GET", "/v1/stream/q-1?offset=-1", null, token).body())
        .size(), "none of the refused writes happened");

    HttpResponse<String> longPoll = send("GET", "/v1/stream/q-1?offset=-1&live=long-poll&" + q,
        null, null);
    assertEquals(200, longPoll.statusCode(), longPoll.body());
    HttpResponse<java.io.InputStream> sse = HTTP.send(HttpRequest.newBuilder(
            URI.create(base + "/v1/stream/q-1?offset=-1&live=sse&" + q)).GET().build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, sse.statusCode());
    assertTrue(sse.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    sse.body().close();
    java.net.http.WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create(
            base.replace("http", "ws") + "/v1/sessions/q-1/ws?" + q),
        new java.net.http.WebSocket.Listener() {}).get(30, TimeUnit.SECONDS);
    ws.abort();
  }

  /** A token minted outside the node with the shared secret, as another issuer would. */
  private static String minted(Instant notBefore) throws Exception {
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("tether").subject("later")
        .jwtID(UUID.randomUUID().toString()).notBeforeTime(Date.from(notBefore))
        .expirationTime(Date.from(notBefore.plusSeconds(3600)))
        .claim("grants", List.of(Map.of("capabilities", List.of("subscribe"),
            "sessions", List.of("nbf-*")))).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(TOKEN_SECRET.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  @Test
  void aTokenIsRefusedBeforeItsNotBeforeTime() throws Exception {
    assertProblem(401, send("GET", "/v1/stream/nbf-1?offset=-1", null,
        minted(Instant.now().plusSeconds(3600))), "not valid yet");
    assertEquals(404, send("GET", "/v1/stream/nbf-1?offset=-1", null,
        minted(Instant.now().minusSeconds(5))).statusCode(), "a token already valid reads");
    assertEquals(404, send("GET", "/v1/stream/nbf-1?offset=-1", null,
        minted(Instant.now().plusSeconds(5))).statusCode(), "within the clock-skew allowance");
    HttpResponse<String> issued = send("POST", "/admin/tokens", "{\"subject\":\"u\",\"grants\":"
        + "[{\"capabilities\":[\"subscribe\"],\"sessions\":[\"nbf-*\"]}],\"notBefore\":\""
        + Instant.now().plusSeconds(3600) + "\"}", ADMIN_SECRET);
    assertEquals(201, issued.statusCode(), issued.body());
    assertProblem(401, send("GET", "/v1/stream/nbf-1?offset=-1", null,
        JSON.readTree(issued.body()).path("token").asText()), "not valid yet");
  }

  @Test
  void aStarIsAWildcardOfGrantsNeverPartOfAnId() throws Exception {
    String all = issue("[{\"capabilities\":[\"publish\",\"subscribe\",\"control\"],"
        + "\"sessions\":[\"**\"]}]");
    assertProblem(400, send("PUT", "/v1/stream/star-*", null, all), "never contain *");
    assertProblem(400, send("PUT", "/v1/stream/star-%2A", null, all), "");
    assertProblem(400, send("POST", "/v1/sessions", "{\"id\":\"star-*\"}", all), "never *");
    assertProblem(400, send("GET", "/v1/sessions/star-%2A", null, all), "never contain *");

    String oneSegment = issue("[{\"capabilities\":[\"publish\",\"subscribe\"],"
        + "\"sessions\":[\"tree-*\"]}]");
    assertEquals(201, send("PUT", "/v1/stream/tree-a", null, oneSegment).statusCode());
    assertEquals(403, send("PUT", "/v1/stream/tree-a/b", null, oneSegment).statusCode(),
        "* stays within one segment");
    for (String trick : List.of("/v1/stream/TREE-a", "/v1/stream/tre-a", "/v1/stream/xtree-a",
        "/v1/stream/tree-a%2Fb", "/v1/stream/tree%E2%80%90a", "/v1/stream/tree-a/",
        "/v1/stream/tree-a/..%2Fvictim")) {
      int status = send("GET", trick + "?offset=-1", null, oneSegment).statusCode();
      assertTrue(status == 403 || status == 400, trick + " -> " + status);
    }
    // An encoded unreserved character is the same URL (RFC 3986 6.2.2.2), decoded alike by the
    // guard and the route: the same stream, authorized as itself.
    assertEquals(200, send("GET", "/v1/stream/tree%2Da?offset=-1", null, oneSegment).statusCode());
    assertEquals(403, send("GET", "/v1/sessions/tree-a%2Fb", null, oneSegment).statusCode(),
        "a decoded / is a / too");
    String deep = issue("[{\"capabilities\":[\"publish\",\"subscribe\"],"
        + "\"sessions\":[\"tree-**\"]}]");
    assertEquals(201, send("PUT", "/v1/stream/tree-a/b", null, deep).statusCode());

    for (String bad : List.of("tree-***", "tree-%2A", "tree a", "")) {
      assertEquals(400, send("POST", "/admin/tokens", "{\"subject\":\"u\",\"grants\":[{"
          + "\"capabilities\":[\"subscribe\"],\"sessions\":[\"" + bad + "\"]}]}", ADMIN_SECRET)
          .statusCode(), bad);
    }
  }
}
