package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.http.auth.Capability;
import io.tether.http.auth.CapabilityTokens;
import io.tether.http.auth.Grant;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Capability tokens on every session operation, over real sockets: no token and forged or
 * expired tokens get 401, a valid token outside its grant 403 (or, inside an open WebSocket, a
 * {@code forbidden} error frame), on the WebSocket upgrade, every REST operation and the
 * Durable Streams routes of the same session.
 */
class SessionAuthTest {
  static SessionsTestServer server;
  static final HttpClient http = HttpClient.newHttpClient();
  static final String SESSION = "auth-session";
  static final Grant EVERYTHING = new Grant(EnumSet.allOf(Capability.class), List.of(SESSION));

  static String valid;
  static String forged;
  static String expired;
  static String otherSession;
  static String subscribeOnly;

  @BeforeAll
  static void start() throws Exception {
    server = SessionsTestServer.start("session_auth_test", "");
    valid = server.tokens.issue("ivy", List.of(EVERYTHING), Duration.ofMinutes(10));
    forged = new CapabilityTokens("another-secret-another-secret-another-secret-x")
        .issue("ivy", List.of(EVERYTHING), Duration.ofMinutes(10));
    expired = new CapabilityTokens(SessionsTestServer.SECRET.getBytes(StandardCharsets.UTF_8),
        Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC))
        .issue("ivy", List.of(EVERYTHING), Duration.ofHours(1));
    otherSession = server.tokens.issue("ivy", List.of(new Grant(EnumSet.allOf(Capability.class),
        List.of("someone-else-*"))), Duration.ofMinutes(10));
    subscribeOnly = server.tokens.issue("ivy", List.of(new Grant(EnumSet.of(
        Capability.SUBSCRIBE), List.of(SESSION))), Duration.ofMinutes(10));
    HttpResponse<String> created = send("POST", "/v1/sessions", "{\"id\":\"" + SESSION + "\"}",
        valid);
    assertEquals(201, created.statusCode(), created.body());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Every HTTP operation on the session, with a body where it takes one. */
  static Map<String, String[]> operations() {
    Map<String, String[]> ops = new LinkedHashMap<>();
    ops.put("create", new String[] {"POST", "/v1/sessions", "{\"id\":\"" + SESSION + "\"}"});
    ops.put("describe", new String[] {"GET", "/v1/sessions/" + SESSION, null});
    ops.put("control", new String[] {"POST", "/v1/sessions/" + SESSION + "/control",
        "{\"type\":\"cancel\",\"run\":\"r1\"}"});
    ops.put("cursor", new String[] {"POST", "/v1/sessions/" + SESSION + "/cursors",
        "{\"device\":\"d\",\"offset\":\"0000000000000000_0000000000000000\"}"});
    ops.put("close", new String[] {"POST", "/v1/sessions/" + SESSION + "/close", null});
    ops.put("delete", new String[] {"DELETE", "/v1/sessions/" + SESSION, null});
    ops.put("stream read", new String[] {"GET", "/v1/stream/" + SESSION + "?offset=-1", null});
    ops.put("stream append", new String[] {"POST", "/v1/stream/" + SESSION, "{\"type\":\"x.y\"}"});
    return ops;
  }

  @Test
  void everyHttpOperationRefusesMissingForgedExpiredAndOutOfScopeTokens() throws Exception {
    for (Map.Entry<String, String[]> op : operations().entrySet()) {
      String[] o = op.getValue();
      for (String token : new String[] {null, forged, expired, "not-a-jwt"}) {
        HttpResponse<String> response = send(o[0], o[1], o[2], token);
        assertEquals(401, response.statusCode(), op.getKey() + " with " + token);
        assertTrue(response.headers().firstValue("Content-Type").orElse("")
            .startsWith("application/problem+json"), op.getKey());
      }
      HttpResponse<String> outOfScope = send(o[0], o[1], o[2], otherSession);
      assertEquals(403, outOfScope.statusCode(), op.getKey() + " out of scope");
    }
    for (String token : new String[] {null, forged, expired}) {
      assertEquals(401, send("GET", "/v1/sessions", null, token).statusCode());
    }
    assertEquals(403, send("POST", "/v1/sessions/" + SESSION + "/control",
        "{\"type\":\"cancel\",\"run\":\"r1\"}", subscribeOnly).statusCode(),
        "subscribe does not grant control");
    assertEquals(200, send("GET", "/v1/sessions/" + SESSION, null, valid).statusCode());
  }

  static int handshakeStatus(String url, String token) {
    try {
      WsClient.open(http, url, token).join().close();
      return 101;
    } catch (CompletionException e) {
      WebSocketHandshakeException refused =
          assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
      return refused.getResponse().statusCode();
    }
  }

  @Test
  void theWebSocketUpgradeRefusesMissingForgedExpiredAndOutOfScopeTokens() {
    String url = server.wsUrl(SESSION);
    assertEquals(401, handshakeStatus(url, null));
    assertEquals(401, handshakeStatus(url, forged));
    assertEquals(401, handshakeStatus(url, expired));
    assertEquals(403, handshakeStatus(url, otherSession));
    assertEquals(401, handshakeStatus(url + "?access_token=" + forged, null));
    assertEquals(403, handshakeStatus(url + "?access_token=" + otherSession, null));
    assertEquals(101, handshakeStatus(url + "?access_token=" + subscribeOnly, null));
  }

  @Test
  void anOpenWebSocketClosesWhenItsTokenExpires() {
    String shortLived = server.tokens.issue("ivy", List.of(EVERYTHING), Duration.ofSeconds(3));
    WsClient client = WsClient.connect(http, server.wsUrl(SESSION), shortLived);
    client.send("{\"type\":\"resume\",\"after\":\"now\",\"device\":\"d2\"}");
    client.await("up-to-date");
    assertEquals("token-expired", client.await("error").path("code").asText());
    assertTrue(client.awaitClosed(), "the server closes the socket");
  }

  @Test
  void insideAWebSocketEveryOperationNeedsItsCapability() {
    try (WsClient client = WsClient.connect(http, server.wsUrl(SESSION), subscribeOnly)) {
      client.send("{\"type\":\"resume\",\"after\":\"now\",\"device\":\"d1\"}");
      client.await("up-to-date");
      for (String frame : List.of(
          "{\"type\":\"publish\",\"id\":\"a\",\"events\":[{\"type\":\"run.start\",\"run\":\"r\"}]}",
          "{\"type\":\"cancel\",\"id\":\"a\",\"run\":\"r\"}",
          "{\"type\":\"steer\",\"id\":\"a\",\"run\":\"r\",\"text\":\"t\"}",
          "{\"type\":\"interrupt\",\"id\":\"a\",\"run\":\"r\"}")) {
        client.send(frame);
        assertEquals("forbidden", client.await("error").path("code").asText(), frame);
      }
      client.send("{\"type\":\"ping\",\"id\":\"p\"}");
      assertEquals("p", client.await("pong").path("id").asText());
    }
  }
}
