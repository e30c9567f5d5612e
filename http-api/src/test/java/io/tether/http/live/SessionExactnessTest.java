package io.tether.http.live;

import static io.tether.http.live.SessionSocketTest.event;
import static io.tether.http.live.SessionSocketTest.frame;
import static io.tether.http.live.SessionSocketTest.publishAndWait;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.Offset;
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
 * The session protocol's exact semantics, each test the reproduction of a defect an independent
 * client found: offsets strictly increasing at message granularity (with a message still open
 * and a later event, and after a resume inside a message), the fence covering deltas that name
 * no run, the fence closing the run's open messages, a rolled-up message keeping its start's
 * text, and the protocol's edges (acked, reply order, too-large, the {@code message} type,
 * reserved types, HTTP validation, unknown runs, run start offsets).
 */
class SessionExactnessTest {
  static final HttpClient http = HttpClient.newHttpClient();
  static SessionsTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = SessionsTestServer.start("session_exactness_test",
        "tether.sessions.ws.outbound-buffer = 128\ntether.sessions.ws.max-frame-bytes = 64k");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String all(String subject, String session) {
    return server.tokens.issue(subject, List.of(new Grant(EnumSet.allOf(Capability.class),
        List.of(session))), Duration.ofMinutes(10));
  }

  private static String newSession() throws Exception {
    return SessionSocketTest.newSessionOn(server);
  }

  private static WsClient resume(String s, String device, String after, String granularity) {
    WsClient c = WsClient.connect(http, server.wsUrl(s), all(device, s));
    c.send("{\"type\":\"resume\",\"after\":\"" + after + "\",\"granularity\":\"" + granularity
        + "\",\"device\":\"" + device + "\"}");
    return c;
  }

  /** Every frame up to up-to-date. */
  private static List<JsonNode> untilUpToDate(WsClient c) {
    List<JsonNode> frames = new ArrayList<>();
    frames.add(c.await(f -> f.path("type").asText().equals("up-to-date"), frames));
    return frames;
  }

  private static List<Offset> eventOffsets(List<JsonNode> frames) {
    return frames.stream().filter(f -> f.path("type").asText().equals("event"))
        .map(f -> Offset.parse(f.path("offset").asText()).orElseThrow()).toList();
  }

  private static void assertStrictlyIncreasing(List<Offset> offsets, Object context) {
    for (int i = 1; i < offsets.size(); i++) {
      assertTrue(offsets.get(i).isAfter(offsets.get(i - 1)),
          "offsets go backwards at " + i + ": " + offsets + " in " + context);
    }
  }

  private static JsonNode messageOf(List<JsonNode> frames, String id) {
    return frames.stream().filter(f -> f.path("event").path("data").path("id").asText()
        .equals(id) && f.path("event").path("type").asText().startsWith("message"))
        .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no " + id + " in " + frames))
        .path("event");
  }

  @Test
  void anOpenMessageAndALaterEventArriveInOffsetOrderAtMessageGranularity() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta")) {
      agent.await("up-to-date");
      publishAndWait(agent, "p1", event("run.start", "r1"),
          event("message.start", "r1", "id", "a-1", "role", "assistant", "text", "hello "));
      publishAndWait(agent, "p2", event("message.delta", "r1", "id", "a-1", "text", "world"));
      agent.send("{\"type\":\"steer\",\"id\":\"st\",\"run\":\"r1\",\"text\":\"shorter\"}");
      agent.await(frame("control-accepted", "st"), null);
      try (WsClient reader = resume(s, "reader", "-1", "message")) {
        List<JsonNode> frames = untilUpToDate(reader);
        assertStrictlyIncreasing(eventOffsets(frames), frames);
        JsonNode open = messageOf(frames, "a-1");
        assertEquals("message.start", open.path("type").asText());
        assertEquals("hello world", open.path("data").path("text").asText(),
            "the rolled-up message keeps its start's text");
        String upToDate = frames.get(frames.size() - 1).path("offset").asText();
        // Resuming after the last offset seen never repeats it.
        try (WsClient again = resume(s, "reader", upToDate, "message")) {
          List<JsonNode> more = untilUpToDate(again);
          assertTrue(eventOffsets(more).stream().allMatch(o -> o.isAfter(
              Offset.parse(upToDate).orElseThrow())), more.toString());
        }
      }
    }
  }

  @Test
  void aResumeInsideAMessageAtMessageGranularityGetsItWholeAndNothingTwice() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta")) {
      agent.await("up-to-date");
      publishAndWait(agent, "p1", event("run.start", "r1"),
          event("message.start", "r1", "id", "a-1", "role", "assistant", "text", "Day 1: "));
      JsonNode mid = publishAndWait(agent, "p2",
          event("message.delta", "r1", "id", "a-1", "text", "Lisbon"));
      String after = mid.path("offset").asText();
      publishAndWait(agent, "p3", event("tool.call", "r1", "name", "weather"),
          event("message.delta", "r1", "id", "a-1", "text", ", Porto"),
          event("message.end", "r1", "id", "a-1", "status", "complete"));
      try (WsClient reader = resume(s, "phone", after, "message")) {
        List<JsonNode> frames = untilUpToDate(reader);
        List<Offset> offsets = eventOffsets(frames);
        assertStrictlyIncreasing(offsets, frames);
        assertTrue(offsets.stream().allMatch(o -> o.isAfter(Offset.parse(after).orElseThrow())),
            "nothing at or below the resume offset: " + frames);
        JsonNode whole = messageOf(frames, "a-1");
        assertEquals("message", whole.path("type").asText());
        assertEquals("Day 1: Lisbon, Porto", whole.path("data").path("text").asText());
        assertTrue(frames.stream().anyMatch(
            f -> f.path("event").path("type").asText().equals("tool.call")), frames.toString());
      }
    }
  }

  @Test
  void theFenceCoversDeltasThatNameNoRunAndClosesTheRunsOpenMessages() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta");
         WsClient client = resume(s, "laptop", "now", "delta")) {
      agent.await("up-to-date");
      client.await("up-to-date");
      publishAndWait(agent, "p1", event("run.start", "r1"),
          event("message.start", "r1", "id", "a-1", "role", "assistant"),
          event("message.delta", "r1", "id", "a-1", "text", "before "));
      client.send("{\"type\":\"cancel\",\"id\":\"c1\",\"run\":\"r1\"}");
      String fence = client.await(frame("cancelled", "c1"), null).path("fence").asText();
      List<JsonNode> seen = new ArrayList<>();
      agent.await(f -> f.path("event").path("type").asText().equals("run.end"), seen);
      JsonNode closed = messageOf(seen, "a-1");
      assertEquals("message.end", closed.path("type").asText(), seen.toString());
      assertEquals("cancelled", closed.path("data").path("status").asText());
      assertEquals("r1", closed.path("run").asText());
      JsonNode runless = publishAndWait(agent, "p2",
          event("message.delta", null, "id", "a-1", "text", "after the stop"));
      assertEquals("fenced", runless.path("code").asText(), runless.toString());
      JsonNode end = publishAndWait(agent, "p3",
          event("message.end", null, "id", "a-1", "status", "complete"));
      assertEquals("fenced", end.path("code").asText(), end.toString());
      try (WsClient reader = resume(s, "reader", "-1", "message")) {
        JsonNode whole = messageOf(untilUpToDate(reader), "a-1");
        assertEquals("before ", whole.path("data").path("text").asText());
        assertEquals("cancelled", whole.path("data").path("status").asText());
      }
      assertFalse(fence.isEmpty());
    }
  }

  @Test
  void repliesFollowTheirOwnEventsAndAcksAreAnswered() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta")) {
      agent.await("up-to-date");
      for (int i = 0; i < 20; i++) {
        agent.send(SessionSocketTest.publish("p" + i, event("run.start", "r" + i)));
      }
      List<JsonNode> frames = new ArrayList<>();
      frames.add(agent.await(frame("published", "p19"), frames));
      for (JsonNode published : frames.stream()
          .filter(f -> f.path("type").asText().equals("published")).toList()) {
        String at = published.path("offset").asText();
        int reply = frames.indexOf(published);
        boolean eventBefore = frames.subList(0, reply).stream().anyMatch(
            f -> f.path("type").asText().equals("event") && f.path("offset").asText().equals(at));
        assertTrue(eventBefore, "published " + at + " came before its event: " + frames);
      }
      String lastOffset = frames.get(frames.size() - 1).path("offset").asText();
      agent.send("{\"type\":\"ack\",\"id\":\"a1\",\"offset\":\"" + lastOffset + "\"}");
      JsonNode acked = agent.await(frame("acked", "a1"), null);
      assertEquals(lastOffset, acked.path("offset").asText());
    }
  }

  @Test
  void theProtocolsEdgesAnswerWithTheirDocumentedCodes() throws Exception {
    String s = newSession();
    try (WsClient client = resume(s, "laptop", "now", "delta")) {
      client.await("up-to-date");
      JsonNode user = publishAndWait(client, "u1", event("message", null, "id", "m-7",
          "role", "user", "text", "Plan a trip", "status", "complete"));
      assertEquals("published", user.path("type").asText(), "the README's user message: " + user);
      JsonNode reserved = publishAndWait(client, "u2",
          event("presence.joined", null, "device", "ghost"));
      assertEquals("reserved-type", reserved.path("code").asText(), reserved.toString());
      JsonNode noId = publishAndWait(client, "u3", event("message.delta", "r1", "text", "x"));
      assertEquals("invalid-event", noId.path("code").asText(), noId.toString());
      client.send("{\"type\":\"cancel\",\"id\":\"c9\",\"run\":\"never-was\"}");
      JsonNode unknown = client.await(f -> f.path("id").asText().equals("c9"), null);
      assertEquals("unknown-run", unknown.path("code").asText(), unknown.toString());

      HttpResponse<String> bad = append(s, "{\"type\":\"message.end\",\"run\":\"r1\","
          + "\"data\":{\"id\":\"x\",\"status\":\"bogus\"}}");
      assertEquals(400, bad.statusCode(), bad.body());
      assertTrue(bad.body().contains("invalid-event"), bad.body());
      assertEquals(400, append(s, "{\"type\":\"control.cancel\",\"run\":\"r1\"}").statusCode());
      assertEquals(204, append(s, "{\"any\":\"json\",\"type\":\"custom.thing\"}").statusCode(),
          "JSON that claims no core session type passes, as on any Durable Stream");

      JsonNode run = publishAndWait(client, "r", event("run.start", "r5"));
      HttpResponse<String> view = http.send(HttpRequest.newBuilder(URI.create(
              server.baseUrl() + "/v1/sessions/" + s))
          .header("Authorization", "Bearer " + all("owner", s)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode r5 = null;
      for (JsonNode r : WsClient.JSON.readTree(view.body()).path("runs")) {
        if (r.path("run").asText().equals("r5")) {
          r5 = r;
        }
      }
      assertEquals(run.path("offset").asText(), r5.path("startOffset").asText(), view.body());

      client.send("{\"type\":\"ping\",\"id\":\"" + "x".repeat(70_000) + "\"}");
      JsonNode tooLarge = client.await(f -> f.path("type").asText().equals("error"), null);
      assertEquals("too-large", tooLarge.path("code").asText(), tooLarge.toString());
      client.send("{\"type\":\"ping\",\"id\":\"still-here\"}");
      client.await(frame("pong", "still-here"), null);
    }
  }

  /** The events of frames up to up-to-date, from event and events frames alike. */
  private static List<JsonNode> events(List<JsonNode> frames) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode f : frames) {
      if (f.path("type").asText().equals("event")) {
        out.add(f);
      } else if (f.path("type").asText().equals("events")) {
        f.path("events").forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void aBatchedResumeDeliversTheSameEventsInFewerFrames() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta")) {
      agent.await("up-to-date");
      publishAndWait(agent, "p0", event("run.start", "r1"),
          event("message.start", "r1", "id", "a-1", "text", "x"));
      for (int i = 0; i < 30; i++) {
        ObjectNode[] deltas = new ObjectNode[20];
        for (int j = 0; j < deltas.length; j++) {
          deltas[j] = event("message.delta", "r1", "id", "a-1", "text", i + "." + j + " ");
        }
        publishAndWait(agent, "p" + (i + 1), deltas);
      }
      for (String granularity : List.of("delta", "message")) {
        List<JsonNode> single;
        try (WsClient reader = resume(s, "one", "-1", granularity)) {
          single = untilUpToDate(reader);
        }
        WsClient batched = WsClient.connect(http, server.wsUrl(s), all("many", s));
        batched.send("{\"type\":\"resume\",\"after\":\"-1\",\"granularity\":\""
            + granularity + "\",\"device\":\"many\",\"batch\":true}");
        List<JsonNode> frames = untilUpToDate(batched);
        List<JsonNode> one = events(single).stream()
            .filter(e -> !e.path("event").path("type").asText().startsWith("presence")).toList();
        List<JsonNode> many = events(frames).stream()
            .filter(e -> !e.path("event").path("type").asText().startsWith("presence")).toList();
        assertEquals(one.stream().map(e -> e.path("offset").asText() + e.path("event")).toList(),
            many.stream().map(e -> e.path("offset").asText() + e.path("event")).toList(),
            granularity);
        assertStrictlyIncreasing(many.stream().map(e -> Offset.parse(e.path("offset").asText())
            .orElseThrow()).toList(), granularity);
        long eventFrames = frames.stream().filter(f -> f.path("type").asText().startsWith("event"))
            .count();
        assertTrue(many.size() < 10 || eventFrames * 10 < many.size(), granularity + ": "
            + eventFrames + " frames for " + many.size() + " events");
        assertTrue(frames.stream().noneMatch(f -> f.path("type").asText().equals("event")),
            "a batched connection sends events frames only");
        // Live events after the batched catch-up arrive too.
        publishAndWait(agent, "live-" + granularity,
            event("message.delta", "r1", "id", "a-1", "text", "live"));
        JsonNode live = batched.await(f -> f.toString().contains("\"live\""), null);
        assertEquals("events", live.path("type").asText());
        batched.close();
      }
    }
  }

  @Test
  void aPublishOrSteerSentAgainAfterADropIsAppliedOnce() throws Exception {
    String s = newSession();
    try (WsClient agent = resume(s, "agent-1", "now", "delta")) {
      agent.await("up-to-date");
      publishAndWait(agent, "start", event("run.start", "r1"));
      String frame = "{\"type\":\"publish\",\"id\":\"p1\",\"producerId\":\"writer-1\","
          + "\"producerEpoch\":0,\"producerSeq\":0,\"events\":[{\"type\":\"test.tick\","
          + "\"data\":{\"n\":1}}]}";
      agent.send(frame);
      String first = agent.await(frame("published", "p1"), null).path("offset").asText();
      // The same frame again, as a client sends it when its connection dropped before the
      // answer: acknowledged, not written again.
      try (WsClient again = resume(s, "writer", "now", "delta")) {
        again.await("up-to-date");
        again.send(frame.replace("\"p1\"", "\"p1-again\""));
        JsonNode dup = again.await(frame("published", "p1-again"), null);
        assertTrue(dup.path("duplicate").asBoolean(), dup.toString());
        again.send("{\"type\":\"steer\",\"id\":\"st-1\",\"run\":\"r1\",\"text\":\"go\"}");
        String steered = again.await(frame("control-accepted", "st-1"), null).path("offset")
            .asText();
        again.send("{\"type\":\"steer\",\"id\":\"st-1\",\"run\":\"r1\",\"text\":\"go\"}");
        assertEquals(steered, again.await(frame("control-accepted", "st-1"), null)
            .path("offset").asText(), "the same steer again answers its first offset");
        // A WebSocket producer's sequence only has to increase (its refused publishes never
        // reach the stream): 5 after 0 is written, 3 after 5 is a duplicate.
        again.send("{\"type\":\"publish\",\"id\":\"jump\",\"producerId\":\"writer-1\","
            + "\"producerEpoch\":0,\"producerSeq\":5,\"events\":[{\"type\":\"test.tock\"}]}");
        assertTrue(!again.await(frame("published", "jump"), null).path("duplicate").asBoolean());
        again.send("{\"type\":\"publish\",\"id\":\"late\",\"producerId\":\"writer-1\","
            + "\"producerEpoch\":0,\"producerSeq\":3,\"events\":[{\"type\":\"test.tock\"}]}");
        assertTrue(again.await(frame("published", "late"), null).path("duplicate").asBoolean());
      }
      try (WsClient reader = resume(s, "reader", "-1", "delta")) {
        List<JsonNode> all = events(untilUpToDate(reader));
        assertEquals(1, all.stream().filter(e -> e.path("event").path("type").asText()
            .equals("test.tick")).count(), "one tick: " + all);
        assertEquals(1, all.stream().filter(e -> e.path("event").path("type").asText()
            .equals("control.steer")).count(), "one steer: " + all);
        assertEquals(1, all.stream().filter(e -> e.path("event").path("type").asText()
            .equals("test.tock")).count(), "one tock: " + all);
        assertTrue(all.stream().anyMatch(e -> e.path("offset").asText().equals(first)));
      }
    }
  }

  private static HttpResponse<String> append(String s, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(
            server.baseUrl() + "/v1/stream/" + s))
        .header("Authorization", "Bearer " + all("agent", s))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
