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
          body.path("model").asText(""));
      if (model.isEmpty()) {
        throw new IllegalArgumentException("no model for the " + role.wireName()
            + ": give \"model\" for every role or \"models\": {\"" + role.wireName() + "\": ...}");
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
    return new CreateRun(prompt, models, policy(body.path("policy"), defaults));
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
        rubric, budget);
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
