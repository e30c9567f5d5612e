package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.http.auth.Capability;
import io.tether.http.auth.Grant;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The session REST API over real HTTP: create (idempotent), list the caller's sessions,
 * describe with presence, runs and read cursors with unread counts, control over HTTP, close,
 * delete, problem bodies, and the served OpenAPI document naming every route.
 */
class SessionRestTest {
  static SessionsTestServer server;
  static final HttpClient http = HttpClient.newHttpClient();
  static String token;

  @BeforeAll
  static void start() throws Exception {
    server = SessionsTestServer.start("session_rest_test", "");
    token = server.tokens.issue("rita", List.of(new Grant(EnumSet.allOf(Capability.class),
        List.of("rita-*"))), Duration.ofMinutes(10));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return WsClient.JSON.readTree(r.body());
  }

  @Test
  void sessionsAreCreatedListedDescribedControlledClosedAndDeleted() throws Exception {
    HttpResponse<String> created = send("POST", "/v1/sessions", "{\"id\":\"rita-1\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("application/json", json(created).path("contentType").asText());
    assertEquals(200, send("POST", "/v1/sessions", "{\"id\":\"rita-1\"}").statusCode());
    assertEquals(201, send("POST", "/v1/sessions", "{\"id\":\"rita-2\"}").statusCode());
    HttpResponse<String> refused = send("POST", "/v1/sessions", "{\"id\":\"bob-1\"}");
    assertEquals(403, refused.statusCode());

    List<String> listed = new ArrayList<>();
    json(send("GET", "/v1/sessions", null)).path("sessions")
        .forEach(v -> listed.add(v.path("id").asText()));
    assertEquals(List.of("rita-1", "rita-2"), listed);

    try (WsClient agent = WsClient.connect(http, server.wsUrl("rita-1"), token)) {
      agent.send("{\"type\":\"resume\",\"after\":\"now\",\"device\":\"agent-9\",\"kind\":\"agent\"}");
      agent.await("up-to-date");
      JsonNode published = SessionSocketTest.publishAndWait(agent, "p",
          SessionSocketTest.event("run.start", "r1"),
          SessionSocketTest.event("message.end", "r1", "id", "m1", "status", "complete"),
          SessionSocketTest.event("message.end", "r1", "id", "m2", "status", "complete"));
      String last = published.path("offset").asText();
      assertEquals(202, send("POST", "/v1/sessions/rita-1/cursors",
          "{\"device\":\"phone\",\"offset\":\"" + last + "\"}").statusCode());
      HttpResponse<String> steer = send("POST", "/v1/sessions/rita-1/control",
          "{\"type\":\"steer\",\"id\":\"s1\",\"run\":\"r1\",\"text\":\"more detail\"}");
      assertEquals(200, steer.statusCode(), steer.body());
      assertEquals("s1", agent.awaitEvent("control.steer").path("event").path("data")
          .path("id").asText());
      HttpResponse<String> cancel = send("POST", "/v1/sessions/rita-1/control",
          "{\"type\":\"cancel\",\"run\":\"r1\"}");
      assertEquals(200, cancel.statusCode(), cancel.body());
      String fence = json(cancel).path("fence").asText();
      HttpResponse<String> tooLate = send("POST", "/v1/sessions/rita-1/control",
          "{\"type\":\"steer\",\"run\":\"r1\",\"text\":\"x\"}");
      assertEquals(409, tooLate.statusCode());
      assertTrue(tooLate.headers().firstValue("Content-Type").orElse("")
          .startsWith("application/problem+json"));

      JsonNode described = awaitCursor("rita-1", "phone");
      assertTrue(described.path("present").toString().contains("agent-9"), described.toString());
      JsonNode run = described.path("runs").get(0);
      assertEquals("cancelled", run.path("status").asText());
      assertEquals(fence, run.path("fence").asText());
      JsonNode cursor = described.path("cursors").get(0);
      assertEquals(last, cursor.path("offset").asText());
      assertEquals(0, cursor.path("unread").asInt());
    }

    HttpResponse<String> closed = send("POST", "/v1/sessions/rita-1/close", null);
    assertEquals(200, closed.statusCode(), closed.body());
    assertTrue(json(closed).path("closed").asBoolean());
    assertEquals(204, send("DELETE", "/v1/sessions/rita-2", null).statusCode());
    HttpResponse<String> gone = send("GET", "/v1/sessions/rita-2", null);
    assertEquals(404, gone.statusCode());
    assertTrue(gone.headers().firstValue("Content-Type").orElse("")
        .startsWith("application/problem+json"));
    List<String> after = new ArrayList<>();
    json(send("GET", "/v1/sessions", null)).path("sessions")
        .forEach(v -> after.add(v.path("id").asText()));
    assertEquals(List.of("rita-1"), after);
  }

  private JsonNode awaitCursor(String session, String device) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      JsonNode described = json(send("GET", "/v1/sessions/" + session, null));
      if (described.path("cursors").toString().contains(device)
          || System.nanoTime() > deadline) {
        return described;
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void theOpenApiDocumentIsServedAndNamesEverySessionRoute() throws Exception {
    HttpResponse<String> doc = http.send(HttpRequest.newBuilder(
        URI.create(server.baseUrl() + "/openapi.json")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, doc.statusCode());
    JsonNode paths = json(doc).path("paths");
    for (String path : List.of("/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/{id}/close",
        "/v1/sessions/{id}/control", "/v1/sessions/{id}/cursors", "/v1/sessions/{id}/ws")) {
      assertTrue(paths.has(path), path);
    }
    assertTrue(paths.path("/v1/sessions/{id}").has("delete"));
  }
}
