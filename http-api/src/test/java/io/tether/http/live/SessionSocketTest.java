package io.tether.http.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The session WebSocket over real sockets (the JDK's WebSocket and HTTP clients) against a bound
 * single-node server on the real local Cassandra, with authentication on.
 */
class SessionSocketTest {
  static SessionsTestServer server;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = SessionsTestServer.start("session_socket_test",
        "tether.sessions.ws.outbound-buffer = 128");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String token(String subject, String session, Capability... caps) {
    EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
    set.addAll(List.of(caps));
    return server.tokens.issue(subject, List.of(new Grant(set, List.of(session))),
        Duration.ofMinutes(10));
  }

  static String all(String subject, String session) {
    return token(subject, session, Capability.SUBSCRIBE, Capability.PUBLISH, Capability.CONTROL);
  }

  static String newSession() throws Exception {
    return newSessionOn(server);
  }

  /** Creates a session over REST on {@code server}. */
  static String newSessionOn(SessionsTestServer server) throws Exception {
    String id = "ws-" + UUID.randomUUID();
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(
            URI.create(server.baseUrl() + "/v1/sessions"))
        .header("Authorization", "Bearer " + server.tokens.issue("owner", List.of(new Grant(
            EnumSet.allOf(Capability.class), List.of(id))), Duration.ofMinutes(10)))
        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  static WsClient join(String session, String token, String device, String kind, String after) {
    WsClient client = WsClient.connect(http, server.wsUrl(session), token);
    client.send("{\"type\":\"resume\",\"after\":\"" + after + "\",\"device\":\"" + device
        + "\",\"kind\":\"" + kind + "\"}");
    return client;
  }

  static ObjectNode event(String type, String run, String... data) {
    ObjectNode e = WsClient.JSON.createObjectNode().put("type", type);
    if (run != null) {
      e.put("run", run);
    }
    ObjectNode d = e.putObject("data");
    for (int i = 0; i < data.length; i += 2) {
      d.put(data[i], data[i + 1]);
    }
    return e;
  }

  static ObjectNode publish(String id, ObjectNode... events) {
    ObjectNode frame = WsClient.JSON.createObjectNode().put("type", "publish").put("id", id);
    ArrayNode list = frame.putArray("events");
    for (ObjectNode e : events) {
      list.add(e);
    }
    return frame;
  }

  static Predicate<JsonNode> frame(String type, String id) {
    return f -> f.path("type").asText().equals(type) && f.path("id").asText().equals(id);
  }

  /** Publishes and waits for the server's answer to this publish (published or error). */
  static JsonNode publishAndWait(WsClient agent, String id, ObjectNode... events) {
    agent.send(publish(id, events));
    return agent.await(f -> f.path("id").asText().equals(id)
        && (f.path("type").asText().equals("published") || f.path("type").asText()
            .equals("error")), null);
  }

  /** Collects event frames until one whose event matches {@code last}. */
  static List<JsonNode> eventsUntil(WsClient client, Predicate<JsonNode> last) {
    List<JsonNode> events = new ArrayList<>();
    while (true) {
      JsonNode f = client.next();
      if (!f.path("type").asText().equals("event")) {
        continue;
      }
      events.add(f);
      if (last.test(f.path("event"))) {
        return events;
      }
    }
  }

  static Predicate<JsonNode> runEnd(String run) {
    return e -> e.path("type").asText().equals("run.end") && e.path("run").asText().equals(run);
  }

  static void streamRun(WsClient agent, String run, int deltas, int perFrame) {
    streamRunOn(agent, run, deltas, perFrame);
  }

  /** Publishes a whole run: start, a message of {@code deltas} deltas, end. */
  static void streamRunOn(WsClient agent, String run, int deltas, int perFrame) {
    assertEquals("published", publishAndWait(agent, run + "-s", event("run.start", run),
        event("message.start", run, "id", run + "-m", "role", "assistant")).path("type").asText());
    for (int i = 0; i < deltas; i += perFrame) {
      List<ObjectNode> batch = new ArrayList<>();
      for (int j = i; j < Math.min(deltas, i + perFrame); j++) {
        batch.add(event("message.delta", run, "id", run + "-m", "text", "t" + j + " "));
      }
      JsonNode answer = publishAndWait(agent, run + "-d" + i, batch.toArray(ObjectNode[]::new));
      assertEquals("published", answer.path("type").asText(), answer.toString());
    }
    assertEquals("published", publishAndWait(agent, run + "-e",
        event("message.end", run, "id", run + "-m", "status", "complete"),
        event("run.end", run, "status", "complete")).path("type").asText());
  }

  static List<String> offsets(List<JsonNode> frames) {
    return frames.stream().map(f -> f.path("offset").asText()).toList();
  }

  @Test
  void twoClientsOnOneSessionSeeTheSameEventsInTheSameOrder() throws Exception {
    String s = newSession();
    try (WsClient a = join(s, all("alice", s), "laptop", "client", "-1");
         WsClient b = join(s, all("alice", s), "phone", "client", "-1");
         WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now")) {
      List<JsonNode> seenByA = new ArrayList<>();
      List<JsonNode> seenByB = new ArrayList<>();
      a.await(f -> f.path("type").asText().equals("up-to-date"), seenByA);
      b.await(f -> f.path("type").asText().equals("up-to-date"), seenByB);
      agent.await("up-to-date");
      streamRun(agent, "r1", 60, 7);
      seenByA.addAll(eventsUntil(a, runEnd("r1")));
      seenByB.addAll(eventsUntil(b, runEnd("r1")));
      seenByA.removeIf(f -> !f.path("type").asText().equals("event"));
      seenByB.removeIf(f -> !f.path("type").asText().equals("event"));
      assertEquals(seenByA, seenByB);
      List<String> offsets = offsets(seenByA);
      assertEquals(offsets.stream().sorted().distinct().toList(), offsets);
      long deltas = seenByA.stream()
          .filter(f -> f.path("event").path("type").asText().equals("message.delta")).count();
      assertEquals(60, deltas);
    }
  }

  @Test
  void clientThatDisconnectsAtARandomPointAndResumesEndsWithExactlyTheFullSequence()
      throws Exception {
    String s = newSession();
    int deltas = 300;
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now")) {
      agent.await("up-to-date");
      CompletableFuture<Void> producing = CompletableFuture.runAsync(
          () -> streamRun(agent, "r1", deltas, 3));
      String token = all("bob", s);
      List<JsonNode> received = new ArrayList<>();
      Random random = new Random();
      String after = "-1";
      boolean ended = false;
      int reconnects = 0;
      while (!ended) {
        WsClient client = join(s, token, "phone", "client", after);
        int cut = 1 + random.nextInt(120);
        int got = 0;
        while (got < cut && !ended) {
          JsonNode f = client.next();
          if (!f.path("type").asText().equals("event")) {
            continue;
          }
          received.add(f);
          after = f.path("offset").asText();
          got++;
          ended = runEnd("r1").test(f.path("event"));
        }
        client.abort();
        reconnects++;
      }
      producing.get();
      assertTrue(reconnects > 1, "the client reconnected at least once");
      try (WsClient fresh = join(s, token, "tablet", "client", "-1")) {
        List<JsonNode> full = eventsUntil(fresh, runEnd("r1"));
        List<String> deltaOffsets = offsets(received);
        assertEquals(deltaOffsets.stream().distinct().sorted().toList(), deltaOffsets,
            "strictly increasing: no duplicate, no reordering");
        assertEquals(full.stream().filter(this::content).toList(),
            received.stream().filter(this::content).toList());
      }
    }
  }

  @Test
  void aClientThatStopsReadingFallsBehindWithoutLosingAnythingAndCatchesUp() throws Exception {
    String s = newSession();
    String token = all("slow", s);
    WsClient slow = WsClient.open(http, server.wsUrl(s), token, true).join();
    slow.send("{\"type\":\"resume\",\"after\":\"-1\",\"device\":\"slow\"}");
    String big = "x".repeat(16 * 1024);
    int deltas = 1000;
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now")) {
      agent.await("up-to-date");
      publishAndWait(agent, "s", event("run.start", "r1"));
      for (int i = 0; i < deltas; i += 20) {
        List<ObjectNode> batch = new ArrayList<>();
        for (int j = i; j < i + 20; j++) {
          batch.add(event("message.delta", "r1", "id", "m-big", "text", j + ":" + big));
        }
        assertEquals("published", publishAndWait(agent, "d" + i,
            batch.toArray(ObjectNode[]::new)).path("type").asText());
      }
      publishAndWait(agent, "e", event("run.end", "r1", "status", "complete"));
    }
    slow.resumeReading();
    List<JsonNode> received = eventsUntil(slow, runEnd("r1"));
    slow.close();
    List<String> offsets = offsets(received);
    assertEquals(offsets.stream().distinct().sorted().toList(), offsets);
    List<String> texts = received.stream()
        .filter(f -> f.path("event").path("type").asText().equals("message.delta"))
        .map(f -> f.path("event").path("data").path("text").asText().split(":")[0]).toList();
    assertEquals(java.util.stream.IntStream.range(0, deltas).mapToObj(String::valueOf).toList(),
        texts, "every delta, in order, none twice");
  }

  @Test
  void messageGranularityRollsHistoryUpIntoWholeMessagesThenGoesLive() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now")) {
      agent.await("up-to-date");
      streamRun(agent, "r1", 25, 4);
      WsClient late = WsClient.connect(http, server.wsUrl(s), all("kim", s));
      late.send("{\"type\":\"resume\",\"after\":\"-1\",\"granularity\":\"message\","
          + "\"device\":\"watch\"}");
      List<JsonNode> history = new ArrayList<>();
      late.await(f -> f.path("type").asText().equals("up-to-date"), history);
      List<JsonNode> messages = history.stream()
          .filter(f -> f.path("event").path("type").asText().startsWith("message")).toList();
      assertEquals(1, messages.size(), history.toString());
      JsonNode whole = messages.get(0).path("event");
      assertEquals("message", whole.path("type").asText());
      StringBuilder expected = new StringBuilder();
      for (int i = 0; i < 25; i++) {
        expected.append("t").append(i).append(" ");
      }
      assertEquals(expected.toString(), whole.path("data").path("text").asText());
      assertEquals("complete", whole.path("data").path("status").asText());
      publishAndWait(agent, "live", event("run.start", "r2"),
          event("message.delta", "r2", "id", "m2", "text", "live"));
      late.awaitEvent("message.delta");
      late.close();
    }
  }

  @Test
  void aLiveClientFollowsTheSessionAcrossAnEntityRestartWithoutGapOrDuplicate() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now");
         WsClient client = join(s, all("lou", s), "laptop", "client", "-1")) {
      agent.await("up-to-date");
      client.await("up-to-date");
      publishAndWait(agent, "a", event("run.start", "r1"),
          event("message.delta", "r1", "id", "m1", "text", "before"));
      client.awaitEvent("message.delta");
      org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(server.system)
          .entityRefFor(io.tether.actors.session.Session.ENTITY_TYPE_KEY, s)
          .tell(new io.tether.actors.session.Session.Stop());
      awaitSessionAnswers(s);
      for (int i = 0; i < 20; i++) {
        JsonNode answer = publishAndWait(agent, "b" + i,
            event("message.delta", "r1", "id", "m1", "text", "after-" + i));
        assertEquals("published", answer.path("type").asText(), answer.toString());
      }
      publishAndWait(agent, "c", event("run.end", "r1", "status", "complete"));
      List<JsonNode> live = eventsUntil(client, runEnd("r1"));
      List<String> texts = live.stream()
          .filter(f -> f.path("event").path("type").asText().equals("message.delta"))
          .map(f -> f.path("event").path("data").path("text").asText()).toList();
      assertEquals(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "after-" + i).toList(),
          texts);
      List<String> offsets = offsets(live);
      assertEquals(offsets.stream().distinct().sorted().toList(), offsets);
    }
  }

  /**
   * Waits until the session answers a describe again: a message sent to an entity that stops
   * itself (not through sharding's passivation, which buffers) is lost, which is not what the
   * restart test is about.
   */
  static void awaitSessionAnswers(String s) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create(server.baseUrl() + "/v1/sessions/" + s))
          .header("Authorization", "Bearer " + all("owner", s)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return;
      }
    }
    throw new AssertionError("the session did not come back");
  }

  /** Everything but presence (which differs with who was connected when). */
  private boolean content(JsonNode frame) {
    return !frame.path("event").path("type").asText().startsWith("presence.");
  }

  @Test
  void cancelFencesTheRunsOutputAndReportsTheFence() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now");
         WsClient client = join(s, all("carol", s), "laptop", "client", "-1")) {
      agent.await("up-to-date");
      client.await("up-to-date");
      assertEquals("published", publishAndWait(agent, "p1", event("run.start", "r1"),
          event("message.start", "r1", "id", "m1"),
          event("message.delta", "r1", "id", "m1", "text", "partial ")).path("type").asText());
      client.awaitEvent("message.delta");
      client.send("{\"type\":\"cancel\",\"id\":\"c1\",\"run\":\"r1\"}");
      JsonNode cancelled = client.await(frame("cancelled", "c1"), null);
      String fence = cancelled.path("fence").asText();
      JsonNode seenByAgent = agent.awaitEvent("control.cancel");
      assertEquals(fence, seenByAgent.path("offset").asText());
      assertEquals("r1", seenByAgent.path("event").path("run").asText());
      JsonNode end = agent.awaitEvent("run.end");
      assertEquals("cancelled", end.path("event").path("data").path("status").asText());
      JsonNode refused = publishAndWait(agent, "p2",
          event("message.delta", "r1", "id", "m1", "text", "more"));
      assertEquals("error", refused.path("type").asText());
      assertEquals("fenced", refused.path("code").asText());
      HttpResponse<String> overHttp = http.send(HttpRequest.newBuilder(
              URI.create(server.baseUrl() + "/v1/stream/" + s))
          .header("Authorization", "Bearer " + all("agent", s))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(
              event("message.delta", "r1", "id", "m1", "text", "late").toString())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(409, overHttp.statusCode());
      assertTrue(overHttp.headers().firstValue("Content-Type").orElse("")
          .startsWith("application/problem+json"));
      client.send("{\"type\":\"cancel\",\"id\":\"c2\",\"run\":\"r1\"}");
      assertEquals(fence, client.await(frame("cancelled", "c2"), null).path("fence").asText(),
          "a second cancel reports the same fence");
      assertEquals("published", publishAndWait(agent, "p3", event("run.start", "r2"))
          .path("type").asText(), "other runs are not fenced");
    }
  }

  @Test
  void cancelByInputMessageBeforeTheRunStartedRefusesThatRun() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now");
         WsClient client = join(s, all("dan", s), "laptop", "client", "now")) {
      agent.await("up-to-date");
      client.await("up-to-date");
      assertEquals("published", publishAndWait(client, "q1",
          event("message.start", null, "id", "in-1", "role", "user"),
          event("message.end", null, "id", "in-1", "status", "complete")).path("type").asText());
      client.send("{\"type\":\"cancel\",\"id\":\"c1\",\"message\":\"in-1\"}");
      String fence = client.await(frame("cancelled", "c1"), null).path("fence").asText();
      assertFalse(fence.isEmpty());
      JsonNode refused = publishAndWait(agent, "p1", event("run.start", "r9", "input", "in-1"));
      assertEquals("fenced", refused.path("code").asText(), refused.toString());
    }
  }

  @Test
  void disconnectDoesNotCancel() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now")) {
      agent.await("up-to-date");
      assertEquals("published", publishAndWait(agent, "p1", event("run.start", "r1"))
          .path("type").asText());
      WsClient client = join(s, all("erin", s), "laptop", "client", "-1");
      client.awaitEvent("run.start");
      client.abort();
      agent.awaitEvent("presence.left");
      JsonNode more = publishAndWait(agent, "p2", event("message.delta", "r1", "id", "m1", "text", "still"),
          event("run.end", "r1", "status", "complete"));
      assertEquals("published", more.path("type").asText(), more.toString());
      try (WsClient reader = join(s, all("erin", s), "laptop", "client", "-1")) {
        List<JsonNode> events = eventsUntil(reader, runEnd("r1"));
        assertTrue(events.stream().noneMatch(
            f -> f.path("event").path("type").asText().equals("control.cancel")));
        assertEquals("complete",
            events.get(events.size() - 1).path("event").path("data").path("status").asText());
      }
    }
  }

  @Test
  void steerReachesTheAgentAndIsAcknowledged() throws Exception {
    String s = newSession();
    try (WsClient agent = join(s, all("agent", s), "agent-1", "agent", "now");
         WsClient client = join(s, all("fay", s), "laptop", "client", "now")) {
      agent.await("up-to-date");
      client.await("up-to-date");
      publishAndWait(agent, "p1", event("run.start", "r1"));
      client.send("{\"type\":\"steer\",\"id\":\"st1\",\"run\":\"r1\",\"text\":\"shorter\"}");
      String at = client.await(frame("control-accepted", "st1"), null).path("offset").asText();
      JsonNode steer = agent.awaitEvent("control.steer");
      assertEquals(at, steer.path("offset").asText());
      assertEquals("shorter", steer.path("event").path("data").path("text").asText());
      assertEquals("st1", steer.path("event").path("data").path("id").asText());
      ObjectNode ack = event("control.ack", "r1", "control", "st1");
      ((ObjectNode) ack.get("data")).put("consumed", true);
      assertEquals("published", publishAndWait(agent, "p2", ack).path("type").asText());
      JsonNode seen = client.awaitEvent("control.ack");
      assertTrue(seen.path("event").path("data").path("consumed").asBoolean());
      client.send("{\"type\":\"interrupt\",\"id\":\"i1\",\"run\":\"nope\"}");
      assertEquals("not-running", client.await(frame("error", "i1"), null).path("code").asText());
    }
  }

  @Test
  void presenceShowsJoinAndLeaveAndALostAgentEndsItsRun() throws Exception {
    String s = newSession();
    try (WsClient watcher = join(s, all("gus", s), "laptop", "client", "now")) {
      watcher.await("up-to-date");
      WsClient phone = join(s, all("gus", s), "phone", "client", "now");
      JsonNode joined = watcher.await(presence("presence.joined", "phone"), null);
      assertEquals("client", joined.path("event").path("data").path("kind").asText());
      phone.close();
      watcher.await(presence("presence.left", "phone"), null);

      WsClient agent = join(s, all("agent", s), "agent-7", "agent", "now");
      agent.await("up-to-date");
      publishAndWait(agent, "p1", event("run.start", "r1"));
      agent.abort();
      JsonNode lost = watcher.await(f -> runEnd("r1").test(f.path("event")), null);
      assertEquals("lost", lost.path("event").path("data").path("status").asText());
    }
  }

  static Predicate<JsonNode> presence(String type, String device) {
    return f -> f.path("event").path("type").asText().equals(type)
        && f.path("event").path("data").path("device").asText().equals(device);
  }

  @Test
  void malformedFramesGetAnErrorFrameAndTheConnectionStaysUsable() throws Exception {
    String s = newSession();
    try (WsClient client = join(s, all("hal", s), "laptop", "client", "now")) {
      client.await("up-to-date");
      for (String bad : List.of("not json", "[1,2]", "{}", "{\"type\":\"nope\",\"id\":\"x\"}",
          "{\"type\":\"steer\",\"id\":\"y\"}", "{\"type\":\"resume\",\"after\":\"zz\"}",
          "{\"type\":\"publish\",\"id\":\"z\",\"events\":[{\"type\":\"BAD\"}]}",
          "{\"type\":\"publish\",\"id\":\"w\",\"events\":[{\"type\":\"presence.joined\"}]}")) {
        client.send(bad);
        JsonNode error = client.await("error");
        assertFalse(error.path("code").asText().isEmpty(), bad);
        assertFalse(error.path("detail").asText().isEmpty(), bad);
      }
      client.sendBinary(new byte[] {1, 2, 3});
      assertEquals("bad-frame", client.await("error").path("code").asText());
      client.send("{\"type\":\"ping\",\"id\":\"still-there\"}");
      assertEquals("still-there", client.await("pong").path("id").asText());
    }
  }
}
