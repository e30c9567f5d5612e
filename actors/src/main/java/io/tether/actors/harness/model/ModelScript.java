package io.tether.actors.harness.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A recorded script for the {@link ScriptedProvider}: per role, the answers to its model calls in
 * order. An answer may be a choice whose branches are picked by a regular expression over the
 * latest tool result the role saw, so a scripted evaluator reacts to what its tools really
 * returned (a failing test) rather than to a fixed verdict.
 *
 * <pre>{@code
 * { "name": "demo",
 *   "roles": {
 *     "planner": [ { "text": "...", "toolCalls": [ { "name": "write_file", "arguments": {...} } ] } ],
 *     "evaluator": [ { "choose": [ { "whenLastToolResult": "exit_code=[1-9]", "text": "..." },
 *                                  { "text": "..." } ] } ] } }
 * }</pre>
 *
 * <p>A string argument of a tool call written {@code ${match:<regex>}} becomes the regular
 * expression's first group in the latest tool result (so a scripted browser user clicks the
 * element reference the real page snapshot gave it), or stays as written when nothing matches.
 */
public final class ModelScript {

  /** One scripted answer. {@code whenLastToolResult} is null for an unconditional branch. */
  public record Answer(String whenLastToolResult, String text, List<ScriptedToolCall> toolCalls) {}

  /** A tool call in a scripted answer; the arguments are a JSON object. */
  public record ScriptedToolCall(String name, String argumentsJson) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String name;
  private final Map<String, List<List<Answer>>> turnsByRole;

  private ModelScript(String name, Map<String, List<List<Answer>>> turnsByRole) {
    this.name = name;
    this.turnsByRole = turnsByRole;
  }

  /** The script's name. */
  public String name() {
    return name;
  }

  /** Loads {@code harness/scripts/<name>.json} from a directory, or else from the classpath. */
  public static ModelScript load(String name, Path directory) {
    if (!name.matches("[A-Za-z0-9_-]+")) {
      throw new IllegalArgumentException("a script name is letters, digits, - and _: " + name);
    }
    try {
      if (directory != null && Files.isRegularFile(directory.resolve(name + ".json"))) {
        return parse(JSON.readTree(directory.resolve(name + ".json").toFile()));
      }
      try (InputStream in = ModelScript.class.getClassLoader()
          .getResourceAsStream("harness/scripts/" + name + ".json")) {
        if (in == null) {
          throw new IllegalArgumentException("no scripted model named " + name);
        }
        return parse(JSON.readTree(in));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read script " + name, e);
    }
  }

  /** Parses a script document. */
  public static ModelScript parse(JsonNode root) {
    Map<String, List<List<Answer>>> roles = new HashMap<>();
    root.path("roles").fields().forEachRemaining(role -> {
      List<List<Answer>> turns = new ArrayList<>();
      for (JsonNode turn : role.getValue()) {
        List<Answer> branches = new ArrayList<>();
        if (turn.has("choose")) {
          turn.get("choose").forEach(b -> branches.add(answer(b)));
        } else {
          branches.add(answer(turn));
        }
        turns.add(branches);
      }
      roles.put(role.getKey(), List.copyOf(turns));
    });
    return new ModelScript(root.path("name").asText("unnamed"), Map.copyOf(roles));
  }

  private static Answer answer(JsonNode node) {
    List<ScriptedToolCall> calls = new ArrayList<>();
    node.path("toolCalls").forEach(c ->
        calls.add(new ScriptedToolCall(c.path("name").asText(), c.path("arguments").toString())));
    String when = node.hasNonNull("whenLastToolResult")
        ? node.get("whenLastToolResult").asText() : null;
    return new Answer(when, node.path("text").asText(""), List.copyOf(calls));
  }

  private static final Pattern MATCH = Pattern.compile("^\\$\\{match:(.*)}$", Pattern.DOTALL);

  /** {@code argumentsJson} with every {@code ${match:<regex>}} string resolved against {@code seen}. */
  public static String withMatches(String argumentsJson, String seen) {
    if (argumentsJson == null || !argumentsJson.contains("${match:")) {
      return argumentsJson;
    }
    try {
      JsonNode tree = JSON.readTree(argumentsJson);
      return JSON.writeValueAsString(resolve(tree, seen == null ? "" : seen));
    } catch (IOException e) {
      return argumentsJson;
    }
  }

  private static JsonNode resolve(JsonNode node, String seen) {
    if (node.isTextual()) {
      Matcher m = MATCH.matcher(node.asText());
      if (m.matches()) {
        Matcher found = Pattern.compile(m.group(1), Pattern.DOTALL).matcher(seen);
        if (found.find()) {
          return com.fasterxml.jackson.databind.node.TextNode.valueOf(
              found.groupCount() >= 1 ? found.group(1) : found.group());
        }
      }
      return node;
    }
    if (node.isObject()) {
      com.fasterxml.jackson.databind.node.ObjectNode copy = JSON.createObjectNode();
      node.fields().forEachRemaining(f -> copy.set(f.getKey(), resolve(f.getValue(), seen)));
      return copy;
    }
    if (node.isArray()) {
      com.fasterxml.jackson.databind.node.ArrayNode copy = JSON.createArrayNode();
      node.forEach(n -> copy.add(resolve(n, seen)));
      return copy;
    }
    return node;
  }

  /**
   * The answer to a role's {@code callIndex}-th call: the first branch whose condition matches the
   * latest tool result (or that has none).
   */
  public Answer answer(String role, long callIndex, String lastToolResult) {
    List<List<Answer>> turns = turnsByRole.getOrDefault(role, List.of());
    if (callIndex < 0 || callIndex >= turns.size()) {
      throw new IllegalStateException("script " + name + " has no answer " + callIndex
          + " for role " + role + " (it has " + turns.size() + ")");
    }
    String seen = lastToolResult == null ? "" : lastToolResult;
    for (Answer a : turns.get((int) callIndex)) {
      if (a.whenLastToolResult() == null
          || Pattern.compile(a.whenLastToolResult(), Pattern.DOTALL).matcher(seen).find()) {
        return a;
      }
    }
    throw new IllegalStateException("script " + name + ": no branch of answer " + callIndex
        + " for role " + role + " matches the latest tool result");
  }
}
