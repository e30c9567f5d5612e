package io.tether.actors.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.output.InMemorySessionWriter;
import io.tether.actors.harness.run.Phase;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunSummary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real provider path end to end, once per provider at the same time: three runs whose every
 * role calls Anthropic, an OpenAI-compatible server or Ollama through LangChain4j, each served
 * by a local stub that speaks that provider's streaming wire format ({@link WireScriptStub}).
 * Each run plans, builds a counter page and grades it in the browser (Playwright MCP and
 * Chromium in the run's sandbox: start the app, open it, click, screenshot, read the page). The
 * session shows real (unscripted) model calls of the right provider, and the run's spend is
 * priced per provider and split per role and sprint.
 */
class ProviderWireRunTest {

  private static ActorTestKit kit;
  private static WireScriptStub stub;

  @BeforeAll
  static void start() throws Exception {
    stub = new WireScriptStub(new String(ProviderWireRunTest.class.getResourceAsStream(
        "/harness/wire-run.json").readAllBytes(), StandardCharsets.UTF_8));
    Path workspaces = Files.createTempDirectory("tether-wire-workspaces");
    String base = stub.baseUrl();
    Config providers = ConfigFactory.parseString("""
            tether.harness.providers.anthropic.api-key-env = "TETHER_TEST_PARENT_SECRET"
            tether.harness.providers.openai.api-key-env = "TETHER_TEST_PARENT_SECRET"
            tether.harness.prices {
              "anthropic:claude-stub" { input = 3.0, output = 15.0 }
              "openai:gpt-stub" { input = 2.0, output = 8.0 }
            }
            """)
        .withFallback(ConfigFactory.parseMap(Map.of(
            "tether.harness.providers.anthropic.base-url", base + "/v1",
            "tether.harness.providers.openai.base-url", base + "/v1",
            "tether.harness.providers.ollama.base-url", base)));
    kit = HarnessTestSupport.harnessNode("ProviderWireRunTest", workspaces, providers);
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
    stub.close();
  }

  @Test
  void aWholeBrowserGradedRunGoesThroughEachProvidersWireFormat() throws Exception {
    InMemorySessionWriter sessions = (InMemorySessionWriter) Harness.get(kit.system()).sessions();
    RunPolicy defaults = Harness.get(kit.system()).settings().defaultPolicy();
    RunPolicy policy = new RunPolicy(true, RunPolicy.EvaluatorMode.PER_SPRINT,
        RunPolicy.ContextMode.RESET, 0, 1, defaults.rubric(), defaults.budget())
        .withToolServers(List.of(new RunPolicy.ToolServer("browser",
            Map.of("evaluator", List.of("*")))));
    Map<String, String> models = Map.of("anthropic", "anthropic:claude-stub",
        "openai", "openai:gpt-stub", "ollama", "ollama:llama-stub");
    for (Map.Entry<String, String> m : models.entrySet()) {
      ClusterSharding.get(kit.system()).entityRefFor(Run.ENTITY_TYPE_KEY, "wire-" + m.getKey())
          .<RunSummary>askWithStatus(r -> new RunCommand.Start("A counter page.",
              Map.of("planner", m.getValue(), "generator", m.getValue(),
                  "evaluator", m.getValue()), policy, "wire-" + m.getKey() + "-session", r),
              Duration.ofSeconds(30))
          .toCompletableFuture().get();
    }
    TestProbe<Object> probe = kit.createTestProbe();
    for (Map.Entry<String, String> m : models.entrySet()) {
      String provider = m.getKey();
      var run = ClusterSharding.get(kit.system()).entityRefFor(Run.ENTITY_TYPE_KEY,
          "wire-" + provider);
      RunSummary end = probe.awaitAssert(Duration.ofSeconds(150), Duration.ofMillis(500), () -> {
        RunSummary s = run.<RunSummary>askWithStatus(RunCommand.Describe::new,
            Duration.ofSeconds(10)).toCompletableFuture().get();
        assertTrue(s.phase().terminal(), provider + " " + s.phase());
        return s;
      });
      assertEquals(Phase.COMPLETED, end.phase(), provider + ": " + end.outcome());
      assertFalse(end.scripted());
      assertTrue(end.results().get(0).passed(), provider);

      List<ObjectNode> events = sessions.events("wire-" + provider + "-session");
      Files.writeString(Path.of("target", "wire-" + provider + "-summary.json"),
          new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
              .writeValueAsString(end));
      Files.writeString(Path.of("target", "wire-" + provider + "-events.jsonl"),
          String.join("\n", events.stream().map(ObjectNode::toString).toList()) + "\n");
      List<ObjectNode> starts = events.stream()
          .filter(e -> e.path("type").asText().equals("message.start")).toList();
      assertTrue(starts.size() >= 9, provider + ": " + starts.size() + " model calls");
      for (ObjectNode s : starts) {
        assertEquals(provider, s.path("data").path("provider").asText());
        assertFalse(s.path("data").path("scripted").asBoolean());
      }
      assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("tool.call")
          && e.path("data").path("name").asText().equals("browser_click")
          && e.path("data").path("arguments").asText().matches(".*\"target\":\"e\\d+\".*")),
          provider);
      assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("tool.result")
          && e.path("data").path("output").asText().contains("Clicked 1 time")), provider);
      assertEquals(1, events.stream()
          .filter(e -> e.path("type").asText().equals("tool.screenshot")).count(),
          provider + ": " + events.stream().filter(e -> e.path("type").asText()
              .startsWith("tool.")).map(e -> e.path("data").path("name").asText()
              + e.path("data").path("output").asText().substring(0, Math.min(200,
                  e.path("data").path("output").asText().length()))).toList());

      // Spend per role and sprint adds up to the run's; priced per provider (Ollama's is 0).
      for (String role : List.of("planner", "generator", "evaluator")) {
        assertTrue(end.spendByRole().get(role).calls() > 0, provider + " " + role);
      }
      assertEquals(end.inputTokens(), end.spendByRole().values().stream()
          .mapToLong(s -> s.inputTokens()).sum());
      assertEquals(end.inputTokens(), end.spendBySprint().values().stream()
          .mapToLong(s -> s.inputTokens()).sum());
      assertEquals(Objects.equals(provider, "ollama"), end.usd() == 0.0,
          provider + " " + end.usd());
      ObjectNode budget = events.stream()
          .filter(e -> e.path("type").asText().equals("budget.used"))
          .reduce((a, b) -> b).orElseThrow();
      assertEquals(end.inputTokens(), budget.path("data").path("inputTokens").asLong());
      assertEquals(budget.path("data").path("roleTotal").path("calls").asInt(),
          end.spendByRole().get(budget.path("data").path("role").asText()).calls());
    }
    for (String provider : models.keySet()) {
      for (String role : List.of("planner", "generator", "evaluator")) {
        assertTrue(stub.received().stream().anyMatch(r -> r.startsWith(provider + " " + role)),
            provider + " " + role + " in " + stub.received());
      }
    }
  }
}
