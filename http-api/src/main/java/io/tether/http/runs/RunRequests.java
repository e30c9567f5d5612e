package io.tether.http.runs;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.task.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a create-run request body into the prompt, the model per role and the policy (the
 * configured default policy with the body's overrides). Throws {@link IllegalArgumentException}
 * with a message a client can act on.
 *
 * <pre>{@code
 * { "prompt": "A command-line tool that turns titles into URL slugs.",
 *   "model": "scripted:demo",                       // every role, or per role:
 *   "models": { "planner": "anthropic:claude-sonnet-4-5", "generator": "...", "evaluator": "..." },
 *   "policy": { "sprints": true, "evaluator": "per-sprint", "context": "reset",
 *               "contractRounds": 3, "attemptsPerSprint": 3,
 *               "rubric": [ { "name": "functionality", "weight": 1, "threshold": 7 } ],
 *               "budget": { "maxTokens": 500000, "maxUsd": 5, "maxWallClockSeconds": 3600 } } }
 * }</pre>
 */
final class RunRequests {

  /** A valid create-run request. */
  record CreateRun(String prompt, Map<String, String> models, RunPolicy policy) {}

  private RunRequests() {}

  static CreateRun parse(JsonNode body, RunPolicy defaults, ModelProviders providers) {
    return parse(body, defaults, providers, null, null);
  }

  /**
   * Parses and checks a create-run request: every role has a model of a known, usable provider
   * with a price ({@code pricing}: configured, or given in the request's {@code prices}), and
   * every MCP server the policy attaches can run on this node ({@code mcp}).
   */
  static CreateRun parse(JsonNode body, RunPolicy defaults, ModelProviders providers,
      io.tether.actors.harness.run.Pricing pricing, io.tether.actors.harness.mcp.McpTools mcp) {
    return parse(body, defaults, providers, pricing, mcp, Map.of());
  }

  /** As above, with the node's default model per role for a request that names none. */
  static CreateRun parse(JsonNode body, RunPolicy defaults, ModelProviders providers,
      io.tether.actors.harness.run.Pricing pricing, io.tether.actors.harness.mcp.McpTools mcp,
      Map<String, String> defaultModels) {
    CreateRun run = parseUnchecked(body, defaults, providers,
        defaultModels == null ? Map.of() : defaultModels);
    if (pricing != null) {
      for (String model : new java.util.TreeSet<>(run.models().values())) {
        String why = pricing.unpriced(model, run.policy().prices());
        if (why != null) {
          throw new IllegalArgumentException(why);
        }
      }
    }
    if (mcp != null) {
      for (RunPolicy.ToolServer t : run.policy().toolServers()) {
        mcp.refusal(t.server()).ifPresent(why -> {
          throw new IllegalArgumentException("policy.toolServers: " + why);
        });
      }
    }
    return run;
  }

  private static CreateRun parseUnchecked(JsonNode body, RunPolicy defaults,
      ModelProviders providers, Map<String, String> defaultModels) {
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object");
    }
    String prompt = body.path("prompt").asText("").trim();
    if (prompt.isEmpty()) {
      throw new IllegalArgumentException("\"prompt\" is required: 1-4 sentences of what to build");
    }
    Map<String, String> models = new HashMap<>();
    for (Role role : Role.values()) {
      String model = body.path("models").path(role.wireName()).asText(
          body.path("model").asText(defaultModels.getOrDefault(role.wireName(), "")));
      if (model.isEmpty()) {
        throw new IllegalArgumentException("no model for the " + role.wireName()
            + ": give \"model\" for every role or \"models\": {\"" + role.wireName() + "\": ...}"
            + " (or set TETHER_HARNESS_MODEL on the node)");
      }
      ModelRef ref = ModelRef.parse(model);
      if (!providers.knows(ref)) {
        throw new IllegalArgumentException("unknown model provider in " + model
            + "; use anthropic:, openai:, ollama: or scripted:");
      }
      providers.unavailable(ref).ifPresent(reason -> {
        throw new IllegalArgumentException(reason);
      });
      models.put(role.wireName(), model);
    }
    RunPolicy policy = policy(body.path("policy"), defaults);
    if (body.has("prices")) {
      Map<String, RunPolicy.Price> prices = new HashMap<>();
      body.get("prices").fields().forEachRemaining(p -> {
        JsonNode price = p.getValue();
        if (!price.path("input").isNumber() || !price.path("output").isNumber()
            || price.get("input").asDouble() < 0 || price.get("output").asDouble() < 0) {
          throw new IllegalArgumentException("prices." + p.getKey() + " needs numbers input and"
              + " output (USD per million tokens, >= 0)");
        }
        ModelRef.parse(p.getKey());
        prices.put(p.getKey(), new RunPolicy.Price(price.get("input").asDouble(),
            price.get("output").asDouble()));
      });
      policy = policy.withPrices(prices);
    }
    return new CreateRun(prompt, models, policy);
  }

  private static RunPolicy policy(JsonNode p, RunPolicy d) {
    if (p.isMissingNode() || p.isNull()) {
      return d;
    }
    List<RunPolicy.Criterion> rubric = d.rubric();
    if (p.has("rubric")) {
      rubric = new ArrayList<>();
      for (JsonNode c : p.get("rubric")) {
        if (!c.hasNonNull("name") || !c.hasNonNull("threshold")) {
          throw new IllegalArgumentException("each rubric criterion needs a name and a threshold");
        }
        rubric.add(new RunPolicy.Criterion(c.get("name").asText(), c.path("weight").asDouble(1),
            c.get("threshold").asDouble()));
      }
    }
    JsonNode b = p.path("budget");
    RunPolicy.Budget budget = new RunPolicy.Budget(
        b.path("maxTokens").asLong(d.budget().maxTokens()),
        b.path("maxUsd").asDouble(d.budget().maxUsd()),
        b.has("maxWallClockSeconds") ? b.get("maxWallClockSeconds").asLong() * 1000
            : d.budget().maxWallClockMillis());
    return new RunPolicy(
        p.path("sprints").asBoolean(d.sprints()),
        p.has("evaluator") ? enumOf(RunPolicy.EvaluatorMode.class, p.get("evaluator").asText())
            : d.evaluator(),
        p.has("context") ? enumOf(RunPolicy.ContextMode.class, p.get("context").asText())
            : d.context(),
        p.path("contractRounds").asInt(d.contractRounds()),
        p.path("attemptsPerSprint").asInt(d.attemptsPerSprint()),
        rubric, budget, toolServers(p.path("toolServers"), d.toolServers()),
        p.path("compactAboveTokens").asInt(d.compactAboveTokens()), Map.of(),
        egress(p.path("egress"), d.egress()));
  }

  /** {@code "egress": true}: the run's tools reach beyond its own loopback. */
  private static boolean egress(JsonNode e, boolean defaultValue) {
    if (e.isMissingNode() || e.isNull()) {
      return defaultValue;
    }
    if (!e.isBoolean()) {
      throw new IllegalArgumentException("policy.egress is true or false");
    }
    return e.asBoolean();
  }

  /**
   * {@code [{"server": "browser", "roles": {"evaluator": ["*"]}}]}: the MCP servers attached
   * to roles, each role with its allowed tools.
   */
  private static List<RunPolicy.ToolServer> toolServers(JsonNode t,
      List<RunPolicy.ToolServer> defaults) {
    if (t.isMissingNode() || t.isNull()) {
      return defaults;
    }
    if (!t.isArray()) {
      throw new IllegalArgumentException("policy.toolServers is a list of {\"server\","
          + " \"roles\": {\"<role>\": [tool names or \"*\"]}}");
    }
    List<RunPolicy.ToolServer> out = new ArrayList<>();
    for (JsonNode server : t) {
      String name = server.path("server").asText("");
      if (name.isEmpty() || !server.path("roles").isObject()) {
        throw new IllegalArgumentException("each of policy.toolServers needs a server and"
            + " roles");
      }
      Map<String, List<String>> roles = new HashMap<>();
      server.get("roles").fields().forEachRemaining(r -> {
        if (java.util.Arrays.stream(Role.values()).noneMatch(x -> x.wireName().equals(r.getKey()))
            || !r.getValue().isArray()) {
          throw new IllegalArgumentException("policy.toolServers[" + name + "].roles: "
              + r.getKey() + " is not planner, generator or evaluator with a list of tools");
        }
        List<String> tools = new ArrayList<>();
        r.getValue().forEach(x -> tools.add(x.asText()));
        roles.put(r.getKey(), tools);
      });
      out.add(new RunPolicy.ToolServer(name, roles));
    }
    return out;
  }

  private static <E extends Enum<E>> E enumOf(Class<E> type, String text) {
    try {
      return Enum.valueOf(type, text.toUpperCase().replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown value " + text + " for "
          + type.getSimpleName());
    }
  }
}
