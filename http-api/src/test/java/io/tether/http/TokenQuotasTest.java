package io.tether.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.Harness;
import io.tether.actors.session.stream.SessionEntity;
import io.tether.actors.session.SessionDirectory;
import io.tether.http.auth.Capability;
import io.tether.http.auth.CapabilityTokens;
import io.tether.http.auth.Grant;
import io.tether.http.auth.Quotas;
import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-token quotas on a two-node cluster serving the whole API ({@link HttpApi#routes}) with
 * authentication on and small limits: sessions created are counted across the cluster, open
 * WebSockets and the append rate per node; each refusal is a 429 with {@code Retry-After} and a
 * problem body (a {@code rate-limited} error frame inside a WebSocket, which stays usable); a
 * token's {@code quotas} claim overrides the node's limits.
 */
class TokenQuotasTest {
  private static final String SECRET = "token-quotas-test-secret-0123456789abcdef";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CapabilityTokens TOKENS = new CapabilityTokens(SECRET);
  private static final List<ActorSystem<Void>> nodes = new ArrayList<>();
  private static final List<String> urls = new ArrayList<>();

  @BeforeAll
  static void startTwoNodes() throws Exception {
    Config config = ConfigFactory.parseString("""
            tether.http.ask-timeout = 15s
            tether.auth.enabled = on
            tether.auth.token-secret = "%s"
            tether.auth.quotas {
              sessions-created = 3
              open-sockets = 2
              socket-retry-after = 7s
              appends-per-second = 1
              append-burst = 3
            }
            """.formatted(SECRET))
        .withFallback(TestNodeConfig.base())
        .withFallback(TestCassandra.get().configFor("TokenQuotasTest"))
        .withFallback(ConfigFactory.parseString(
            "tether.session.read-journal-plugin-id = \"pekko.persistence.cassandra.query\""))
        .withFallback(ConfigFactory.parseResources("tether.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    for (int i = 0; i < 2; i++) {
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "TokenQuotasTest", config);
      nodes.add(system);
      Cluster.get(system).manager().tell(Join.create(
          Cluster.get(nodes.get(0)).selfMember().address()));
      SessionEntity.init(system);
      SessionDirectory.init(system);
      Harness.init(system);
      ServerBinding binding = HttpServer.start(system,
              HttpApi.routes(system, TestNodeConfig.streams(system)), "127.0.0.1", 0)
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      urls.add(HttpServer.baseUrl(binding));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (nodes.stream().anyMatch(n -> Cluster.get(n).selfMember().status() != MemberStatus.up())) {
      assertTrue(System.nanoTime() < deadline, "the two nodes did not form a cluster");
      TimeUnit.MILLISECONDS.sleep(50); // polling the membership, not waiting for an outcome
    }
  }

  /**
   * One node after the other: stopped together, the last one's leave waited for the first, gone
   * already, until its exiting phase timed out (10 s).
   */
  @AfterAll
  static void stop() throws Exception {
    for (ActorSystem<Void> node : nodes) {
      node.terminate();
      node.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  private static String token(String pattern, Quotas quotas) {
    return TOKENS.issue("q", List.of(new Grant(EnumSet.allOf(Capability.class),
        List.of(pattern))), Duration.ofMinutes(20), quotas);
  }

  private static HttpResponse<String> send(int node, String method, String path, String body,
      String token, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(urls.get(node) + path))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertTooMany(HttpResponse<String> r, String detailPart) {
    assertEquals(429, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("")
        .startsWith("application/problem+json"), r.headers().toString());
    assertTrue(r.body().contains(detailPart), r.body());
    assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow()) >= 1);
  }

  @Test
  void sessionsCreatedAreCountedAcrossTheCluster() throws Exception {
    String t = token("c-*", Quotas.NONE);
    assertEquals(201, send(0, "PUT", "/v1/stream/c-1", null, t).statusCode());
    assertEquals(201, send(1, "POST", "/v1/sessions", "{\"id\":\"c-2\"}", t).statusCode());
    assertEquals(200, send(1, "PUT", "/v1/stream/c-1", null, t).statusCode(),
        "creating an existing stream again costs nothing");
    assertEquals(400, send(0, "PUT", "/v1/stream/c-bad", null, t, "Stream-TTL", "soon")
        .statusCode(), "a refused create costs nothing");
    assertEquals(201, send(1, "PUT", "/v1/stream/c-3", null, t).statusCode());
    HttpResponse<String> fourth = send(0, "PUT", "/v1/stream/c-4", null, t);
    assertTooMany(fourth, "created its 3 sessions");
    assertTrue(Long.parseLong(fourth.headers().firstValue("Retry-After").orElseThrow()) > 60,
        "the count lasts as long as the token: " + fourth.headers());
    assertTooMany(send(1, "POST", "/v1/sessions", "{\"id\":\"c-5\"}", t), "created its 3");
    assertEquals(404, send(0, "GET", "/v1/stream/c-4?offset=-1", null, t).statusCode(),
        "nothing was created");

    assertEquals(201, send(1, "PUT", "/v1/stream/c-4", null, token("c-*", Quotas.NONE))
        .statusCode(), "another token has its own count");
    String generous = token("c-*", new Quotas(5, null, null, null));
    for (int i = 0; i < 5; i++) {
      assertEquals(201, send(i % 2, "PUT", "/v1/stream/c-g" + i, null, generous).statusCode());
    }
    assertTooMany(send(0, "PUT", "/v1/stream/c-g5", null, generous), "created its 5 sessions");
  }

  /** The status of a WebSocket upgrade (101 when open) and the socket, if it opened. */
  private record Upgrade(int status, WebSocket socket, LinkedBlockingQueue<JsonNode> frames,
      HttpResponse<?> refusal) {}

  private static Upgrade open(int node, String session, String token) {
    LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          try {
            frames.add(JSON.readTree(partial.toString()));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }
    };
    try {
      WebSocket ws = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + token)
          .buildAsync(URI.create(urls.get(node).replace("http", "ws") + "/v1/sessions/"
              + session + "/ws"), listener).join();
      return new Upgrade(101, ws, frames, null);
    } catch (CompletionException e) {
      WebSocketHandshakeException refused =
          assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
      return new Upgrade(refused.getResponse().statusCode(), null, frames, refused.getResponse());
    }
  }

  private static JsonNode await(LinkedBlockingQueue<JsonNode> frames, String type)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      JsonNode frame = frames.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      assertTrue(frame != null, "no " + type + " frame");
      if (frame.path("type").asText().equals(type)) {
        return frame;
      }
    }
  }

  @Test
  void openWebSocketsAreCountedPerNode() throws Exception {
    String setup = token("w-*", new Quotas(100, 100, 1000, 1000));
    assertEquals(201, send(0, "POST", "/v1/sessions", "{\"id\":\"w-1\"}", setup).statusCode());
    String t = token("w-*", Quotas.NONE);
    Upgrade first = open(0, "w-1", t);
    Upgrade second = open(0, "w-1", t);
    assertEquals(101, first.status());
    assertEquals(101, second.status());
    Upgrade third = open(0, "w-1", t);
    assertEquals(429, third.status());
    assertEquals("7", third.refusal().headers().firstValue("Retry-After").orElse(""));
    Upgrade elsewhere = open(1, "w-1", t);
    assertEquals(101, elsewhere.status(), "the limit is per node");

    first.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Upgrade again;
    do {
      assertTrue(System.nanoTime() < deadline, "a closed socket never gave its place back");
      again = open(0, "w-1", t); // probes until the server has seen the close
    } while (again.status() == 429);
    assertEquals(101, again.status());

    Upgrade roomy = null;
    String wide = token("w-*", new Quotas(null, 3, null, null));
    for (int i = 0; i < 3; i++) {
      roomy = open(0, "w-1", wide);
      assertEquals(101, roomy.status(), "the token's claim allows 3");
    }
    assertEquals(429, open(0, "w-1", wide).status());
    for (Upgrade u : List.of(second, elsewhere, again, roomy)) {
      u.socket().abort();
    }
  }

  @Test
  void appendsBeyondTheRateAreRefusedAndASocketStaysUsable() throws Exception {
    String setup = token("r-*", new Quotas(100, 100, 1000, 1000));
    assertEquals(201, send(1, "POST", "/v1/sessions", "{\"id\":\"r-1\"}", setup).statusCode());
    String t = token("r-*", Quotas.NONE);
    int accepted = 0;
    HttpResponse<String> refused = null;
    long start = System.nanoTime();
    for (int i = 0; i < 12 && refused == null; i++) {
      HttpResponse<String> r = send(1, "POST", "/v1/stream/r-1",
          "{\"type\":\"note.added\",\"data\":{\"i\":" + i + "}}", t);
      if (r.statusCode() == 429) {
        refused = r;
      } else {
        assertEquals(204, r.statusCode(), r.body());
        accepted++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(refused != null, "12 appends at once passed a rate of 1/s with bursts of 3");
    assertTooMany(refused, "may append 1 times a second (bursts of 3)");
    assertTrue(accepted >= 3 && accepted <= 3 + Math.ceil(seconds), accepted + " in " + seconds);

    String agent = token("r-*", new Quotas(null, null, 1, 2));
    Upgrade socket = open(1, "r-1", agent);
    assertEquals(101, socket.status());
    socket.socket().sendText("{\"type\":\"resume\",\"after\":\"now\"}", true).join();
    await(socket.frames(), "up-to-date");
    long sent = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      socket.socket().sendText("{\"type\":\"publish\",\"id\":\"p" + i + "\",\"events\":"
          + "[{\"type\":\"note.added\",\"data\":{\"i\":" + i + "}}]}", true).join();
    }
    int published = 0;
    JsonNode limited = null;
    for (int answered = 0; answered < 8; ) {
      JsonNode frame = socket.frames().poll(30, TimeUnit.SECONDS);
      assertTrue(frame != null, "every publish is answered");
      if (frame.path("id").asText().startsWith("p")) {
        answered++;
        if (frame.path("type").asText().equals("published")) {
          published++;
        } else {
          assertEquals("rate-limited", frame.path("code").asText(), frame.toString());
          limited = frame;
        }
      }
    }
    double publishSeconds = (System.nanoTime() - sent) / 1e9;
    assertTrue(limited != null, "8 publishes at once passed a rate of 1/s with bursts of 2");
    assertTrue(limited.path("retryAfter").asLong() >= 1, limited.toString());
    assertTrue(published >= 2 && published <= 2 + Math.ceil(publishSeconds),
        published + " published in " + publishSeconds + " s");
    socket.socket().sendText("{\"type\":\"ping\",\"id\":\"still-there\"}", true).join();
    assertEquals("still-there", await(socket.frames(), "pong").path("id").asText());
    socket.socket().abort();
  }
}
