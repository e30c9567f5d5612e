package io.tether.http.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.Harness;
import io.tether.actors.session.Session;
import io.tether.http.ProblemHandlers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The runs REST API over real HTTP against a bound server running the scripted demo. */
class RunRoutesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static ActorTestKit kit;
  private static ServerBinding binding;
  private static final HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Config config = ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = "127.0.0.1"
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.loglevel = INFO
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
            tether.harness.session-writer = "session-entity"
            tether.session.read-journal-plugin-id = "pekko.persistence.testkit.query"
            tether.harness.providers.openai.api-key-required = false
            tether.harness.workspace.sandbox.allow-egress = off
            tether.auth.enabled = off
            tether.auth.token-secret = ""
            """)
        .withFallback(ConfigFactory.parseMap(Map.of("tether.harness.workspace.root",
            Files.createTempDirectory("tether-runs-api").toString())))
        .withFallback(PersistenceTestKitPlugin.getInstance().config())
        .withFallback(PersistenceTestKitSnapshotPlugin.config())
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    kit = ActorTestKit.create("RunRoutesTest", config);
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(kit.system());
    Harness.init(kit.system());
    binding = Http.get(kit.system()).newServerAt("127.0.0.1", 0)
        .bind(ProblemHandlers.wrap(org.apache.pekko.http.javadsl.server.Directives.concat(
            new io.tether.http.console.RunFilesRoutes(kit.system(),
                io.tether.http.auth.Authenticator.fromConfig(kit.system())).route(),
            new RunRoutes(kit.system(), new io.tether.actors.session.SessionStreams(kit.system(),
                java.time.Duration.ofSeconds(10))).route())))
        .toCompletableFuture().get();
  }

  @AfterAll
  static void stop() {
    binding.unbind();
    kit.shutdownTestKit();
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + binding.localAddress().getPort() + path)).timeout(Duration.ofSeconds(30));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void createsARunThatCompletesAndCanBeDescribedAndListed() throws Exception {
    HttpResponse<String> created = send("POST", "/runs", """
        {"prompt": "A command-line tool that turns titles into URL slugs.",
         "model": "scripted:demo", "policy": {"contractRounds": 2, "attemptsPerSprint": 3}}
        """);
    assertEquals(201, created.statusCode(), created.body());
    JsonNode run = JSON.readTree(created.body());
    String runId = run.path("runId").asText();
    assertEquals("run-" + runId, run.path("sessionId").asText());
    assertTrue(run.path("scripted").asBoolean());
    assertEquals("/runs/" + runId, created.headers().firstValue("Location").orElseThrow());

    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(90), Duration.ofMillis(250), () -> {
      JsonNode now = JSON.readTree(send("GET", "/runs/" + runId, null).body());
      assertEquals("completed", now.path("phase").asText(), now.toString());
      return null;
    });
    JsonNode done = JSON.readTree(send("GET", "/runs/" + runId, null).body());
    assertEquals(3, done.path("results").size());
    assertFalse(done.path("results").get(0).path("passed").asBoolean());
    assertTrue(done.path("report").asText().contains("Sprint 1"));

    // Spend per role and per sprint (0 is planning): every role and sprint made calls.
    JsonNode budget = done.path("budget");
    for (String role : List.of("planner", "generator", "evaluator")) {
      assertTrue(budget.path("byRole").path(role).path("calls").asInt() > 0, budget.toString());
    }
    for (String sprint : List.of("0", "1", "2")) {
      assertTrue(budget.path("bySprint").path(sprint).path("outputTokens").asLong() > 0,
          budget.toString());
    }
    long roleTokens = 0;
    for (JsonNode spend : budget.path("byRole")) {
      roleTokens += spend.path("inputTokens").asLong() + spend.path("outputTokens").asLong();
    }
    assertEquals(budget.path("inputTokens").asLong() + budget.path("outputTokens").asLong(),
        roleTokens);
    assertTrue(done.path("report").asText().contains("- evaluator: "), done.path("report")
        .asText());
    HttpResponse<String> spec = send("GET", "/runs/" + runId + "/files/spec.md", null);
    assertEquals(200, spec.statusCode());
    assertTrue(spec.body().contains("Sprint 1"), spec.body());
    assertEquals(404, send("GET", "/runs/" + runId + "/files/none.md", null).statusCode());

    JsonNode list = JSON.readTree(send("GET", "/runs", null).body());
    assertEquals(runId, list.path("runs").get(0).path("runId").asText());

    HttpResponse<String> steer = send("POST", "/runs/" + runId + "/steer", "{\"text\": \"x\"}");
    assertEquals(409, steer.statusCode());
    assertEquals("application/problem+json",
        steer.headers().firstValue("Content-Type").orElseThrow());
  }

  @Test
  void followingARunPrintsItsProgressAndEndsWithTheReportWhenTheRunEnds() throws Exception {
    HttpResponse<String> followed = send("POST", "/runs?follow=true", """
        {"prompt": "Slugs.", "model": "scripted:demo", "policy": {"contractRounds": 2}}
        """);
    assertEquals(200, followed.statusCode(), followed.body());
    assertTrue(followed.headers().firstValue("Content-Type").orElseThrow()
        .startsWith("text/plain"));
    String text = followed.body();
    assertTrue(text.contains("SCRIPTED"), text);
    assertTrue(text.contains("sprint 1 attempt 1 FAILED"), text);
    assertTrue(text.contains("sprint 1 attempt 2 PASSED"), text);
    assertTrue(text.matches("(?s).*# Run \\S+: completed.*Budget used: .*"), text);
    String runId = followed.headers().firstValue("Location").orElseThrow()
        .substring("/runs/".length());
    assertEquals("completed", JSON.readTree(send("GET", "/runs/" + runId, null).body())
        .path("phase").asText());
  }

  @Test
  void pausesSteersAndCancelsARun() throws Exception {
    JsonNode run = JSON.readTree(send("POST", "/runs", """
        {"prompt": "Slugs.", "model": "scripted:demo", "policy": {"contractRounds": 2}}
        """).body());
    String runId = run.path("runId").asText();
    JsonNode paused = JSON.readTree(send("POST", "/runs/" + runId + "/pause", null).body());
    assertTrue(paused.path("paused").asBoolean());
    assertEquals(202, send("POST", "/runs/" + runId + "/steer",
        "{\"text\": \"Keep it POSIX.\"}").statusCode());
    JsonNode cancelled = JSON.readTree(send("POST", "/runs/" + runId + "/cancel",
        "{\"reason\": \"changed my mind\"}").body());
    assertEquals("cancelled", cancelled.path("phase").asText());
    assertEquals("changed my mind", cancelled.path("outcome").asText());
    assertEquals(409, send("POST", "/runs/" + runId + "/resume", null).statusCode());
  }

  @Test
  void answersProblemsForBadRequestsAndUnknownRuns() throws Exception {
    HttpResponse<String> noPrompt = send("POST", "/runs", "{\"model\": \"scripted:demo\"}");
    assertEquals(400, noPrompt.statusCode());
    assertTrue(JSON.readTree(noPrompt.body()).path("detail").asText().contains("prompt"));
    HttpResponse<String> badModel = send("POST", "/runs",
        "{\"prompt\": \"x\", \"model\": \"mystery:model\"}");
    assertEquals(400, badModel.statusCode());
    assertEquals(400, send("POST", "/runs", "not json").statusCode());
    if (System.getenv("ANTHROPIC_API_KEY") == null) {
      HttpResponse<String> noKey = send("POST", "/runs",
          "{\"prompt\": \"x\", \"model\": \"anthropic:claude-sonnet-4-5\"}");
      assertEquals(400, noKey.statusCode());
      assertTrue(noKey.body().contains("ANTHROPIC_API_KEY"), noKey.body());
    }
    // A model without a price is refused unless the run prices it; an MCP server the node
    // does not have is refused too.
    String unpriced = "{\"prompt\": \"x\", \"model\": \"openai:mystery-model\"%s}";
    HttpResponse<String> noPrice = send("POST", "/runs", unpriced.formatted(""));
    assertEquals(400, noPrice.statusCode());
    assertTrue(noPrice.body().contains("no price for openai:mystery-model"), noPrice.body());
    HttpResponse<String> badPrice = send("POST", "/runs", unpriced.formatted(
        ", \"prices\": {\"openai:mystery-model\": {\"input\": \"cheap\"}}"));
    assertEquals(400, badPrice.statusCode());
    HttpResponse<String> noServer = send("POST", "/runs", unpriced.formatted(
        ", \"prices\": {\"openai:mystery-model\": {\"input\": 1, \"output\": 2}},"
            + " \"policy\": {\"toolServers\": [{\"server\": \"nope\","
            + " \"roles\": {\"evaluator\": [\"*\"]}}]}"));
    assertEquals(400, noServer.statusCode());
    assertTrue(noServer.body().contains("no MCP server named nope"), noServer.body());
    // Egress: a boolean, and refused where the operator does not allow it (as here).
    String withEgress = "{\"prompt\": \"x\", \"model\": \"scripted:demo\","
        + " \"policy\": {\"egress\": %s}}";
    HttpResponse<String> notBoolean = send("POST", "/runs", withEgress.formatted("\"yes\""));
    assertEquals(400, notBoolean.statusCode());
    assertTrue(notBoolean.body().contains("policy.egress is true or false"), notBoolean.body());
    HttpResponse<String> refused = send("POST", "/runs", withEgress.formatted("true"));
    assertEquals(400, refused.statusCode());
    assertTrue(refused.body().contains("this node does not allow runs egress"), refused.body());
    assertEquals(0, JSON.readTree(send("GET", "/runs", null).body()).path("runs").findValues(
        "prompt").stream().filter(p -> p.asText().equals("x")).count(), "no run was created");
    HttpResponse<String> missing = send("GET", "/runs/no-such-run", null);
    assertEquals(404, missing.statusCode());
    assertEquals("application/problem+json",
        missing.headers().firstValue("Content-Type").orElseThrow());
  }
}
