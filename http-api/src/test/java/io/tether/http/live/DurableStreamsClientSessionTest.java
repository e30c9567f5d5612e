package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.http.auth.Capability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official Durable Streams client ({@code @durable-streams/client}, run by Node.js from
 * {@code src/test/js/session-client.mjs}) reads a JSON session written over the WebSocket: the
 * whole history from the start, and the rest after an offset taken from a WebSocket event frame
 * (the two transports share one offset space). Needs Node.js and the npm packages of
 * {@code src/test/js} ({@code npm ci} there, as the conformance test does).
 */
class DurableStreamsClientSessionTest {
  static SessionsTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = SessionsTestServer.start("session_ds_client_test", "");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void theOfficialClientReadsAJsonSessionAndResumesFromAnOffset() throws Exception {
    String s = SessionSocketTest.newSessionOn(server);
    String token = server.tokens.issue("reader", List.of(new io.tether.http.auth.Grant(
        java.util.EnumSet.allOf(Capability.class), List.of(s))), java.time.Duration.ofMinutes(5));
    List<JsonNode> events = new ArrayList<>();
    try (WsClient agent = WsClient.connect(SessionSocketTest.http, server.wsUrl(s), token)) {
      agent.send("{\"type\":\"resume\",\"after\":\"-1\",\"device\":\"agent\",\"kind\":\"agent\"}");
      agent.await("up-to-date");
      SessionSocketTest.streamRunOn(agent, "r1", 12, 5);
    }
    try (WsClient reader = WsClient.connect(SessionSocketTest.http, server.wsUrl(s), token)) {
      reader.send("{\"type\":\"resume\",\"after\":\"-1\",\"device\":\"reader\"}");
      events.addAll(SessionSocketTest.eventsUntil(reader, SessionSocketTest.runEnd("r1")));
    }
    events.removeIf(f -> f.path("event").path("type").asText().startsWith("presence."));
    int mid = events.size() / 2;
    String midOffset = events.get(mid - 1).path("offset").asText();

    Path js = io.tether.http.NodePackages.installed();
    ProcessBuilder node = new ProcessBuilder("node", "session-client.mjs").directory(js.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    node.environment().put("DS_URL", server.baseUrl() + "/v1/stream/" + s);
    node.environment().put("TOKEN", token);
    node.environment().put("MID_OFFSET", midOffset);
    Process process = node.start();
    byte[] out = process.getInputStream().readAllBytes();
    process.waitFor(60, TimeUnit.SECONDS);
    assertEquals(0, process.exitValue(), new String(out, StandardCharsets.UTF_8));
    JsonNode result = WsClient.JSON.readTree(out);

    List<JsonNode> read = new ArrayList<>();
    result.path("all").forEach(read::add);
    read.removeIf(e -> e.path("type").asText().startsWith("presence."));
    assertEquals(events.stream().map(f -> f.path("event")).toList(), read,
        "the client reads exactly the events the WebSocket delivered, in order");
    List<JsonNode> rest = new ArrayList<>();
    result.path("rest").forEach(rest::add);
    rest.removeIf(e -> e.path("type").asText().startsWith("presence."));
    assertEquals(events.subList(mid, events.size()).stream().map(f -> f.path("event")).toList(),
        rest, "resuming from a WebSocket offset continues right after it");
    assertTrue(result.path("tailOffset").asText()
        .compareTo(events.get(events.size() - 1).path("offset").asText()) >= 0,
        "the client's next offset is at or after the last WebSocket offset (presence may follow)");
  }
}
