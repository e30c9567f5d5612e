package io.tether.actors.harness.run;

import com.typesafe.config.Config;
import io.tether.persistence.TetherSerializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The harness policy of one run: every harness component as a setting, because each encodes an
 * assumption about what the model cannot do alone.
 *
 * @param sprints whether the spec is split into sprints
 * @param evaluator when the evaluator verifies
 * @param context whether role tasks start fresh (with a hand-off) or continue the conversation
 * @param contractRounds contract negotiation rounds per sprint; 0 skips contracts
 * @param attemptsPerSprint build-and-evaluate attempts per sprint
 * @param rubric the criteria the evaluator scores
 * @param budget the run's limits
 * @param toolServers the MCP servers attached to roles, with each role's allowed tools
 * @param compactAboveTokens with context {@code compact}: the estimated conversation size past
 *     which a role's older turns are summarized by its model
 * @param prices prices given with the run for models the node has no price for (USD per
 *     million tokens, by {@code provider:model})
 * @param egress whether the run's tools reach beyond the run's own loopback (where the node
 *     allows it)
 */
public record RunPolicy(
    boolean sprints,
    EvaluatorMode evaluator,
    ContextMode context,
    int contractRounds,
    int attemptsPerSprint,
    List<Criterion> rubric,
    Budget budget,
    List<ToolServer> toolServers,
    int compactAboveTokens,
    Map<String, Price> prices,
    boolean egress) implements TetherSerializable {

  /** When the evaluator verifies. */
  public enum EvaluatorMode { PER_SPRINT, AT_END }

  /**
   * How a role's context carries from one task to the next: a fresh conversation per task with a
   * structured hand-off, one that grows without limit, or one whose older turns the model
   * summarizes once it passes {@link #compactAboveTokens}.
   */
  public enum ContextMode { RESET, CONTINUOUS, COMPACT }

  /**
   * An MCP server attached to a run.
   *
   * @param server its name in {@code tether.harness.mcp.servers} ({@code browser}: Playwright)
   * @param roles per role (planner, generator, evaluator) the tools it may call; {@code *} is
   *     every tool; a role not listed gets none
   */
  public record ToolServer(String server, Map<String, List<String>> roles)
      implements TetherSerializable {

    public ToolServer {
      roles = roles == null ? Map.of() : Map.copyOf(roles);
    }
  }

  /** A model's price in USD per million input and output tokens. */
  public record Price(double input, double output) implements TetherSerializable {}

  /**
   * One rubric criterion, scored 0..10.
   *
   * @param name the criterion
   * @param weight its share of the weighted total
   * @param threshold the lowest passing score
   */
  public record Criterion(String name, double weight, double threshold)
      implements TetherSerializable {}

  /**
   * A run's limits; 0 means unlimited.
   *
   * @param maxTokens input plus output tokens over all roles
   * @param maxUsd cost in US dollars at the configured prices
   * @param maxWallClockMillis time since the run started
   */
  public record Budget(long maxTokens, double maxUsd, long maxWallClockMillis)
      implements TetherSerializable {}

  public RunPolicy {
    rubric = List.copyOf(rubric);
    toolServers = toolServers == null ? List.of() : List.copyOf(toolServers);
    prices = prices == null ? Map.of() : Map.copyOf(prices);
    if (contractRounds < 0 || attemptsPerSprint < 1 || rubric.isEmpty()) {
      throw new IllegalArgumentException(
          "contract rounds >= 0, attempts per sprint >= 1 and a non-empty rubric are required");
    }
    if (compactAboveTokens < 0) {
      throw new IllegalArgumentException("compactAboveTokens must be >= 0");
    }
  }

  /** A policy without MCP servers, compaction threshold, prices of its own or egress. */
  public RunPolicy(boolean sprints, EvaluatorMode evaluator, ContextMode context,
      int contractRounds, int attemptsPerSprint, List<Criterion> rubric, Budget budget) {
    this(sprints, evaluator, context, contractRounds, attemptsPerSprint, rubric, budget,
        List.of(), 0, Map.of(), false);
  }

  /** This policy with {@code servers} attached. */
  public RunPolicy withToolServers(List<ToolServer> servers) {
    return new RunPolicy(sprints, evaluator, context, contractRounds, attemptsPerSprint, rubric,
        budget, servers, compactAboveTokens, prices, egress);
  }

  /** This policy with these prices of its own. */
  public RunPolicy withPrices(Map<String, Price> newPrices) {
    return new RunPolicy(sprints, evaluator, context, contractRounds, attemptsPerSprint, rubric,
        budget, toolServers, compactAboveTokens, newPrices, egress);
  }

  /** This policy with egress given or taken. */
  public RunPolicy withEgress(boolean allowed) {
    return new RunPolicy(sprints, evaluator, context, contractRounds, attemptsPerSprint, rubric,
        budget, toolServers, compactAboveTokens, prices, allowed);
  }

  /** The grants of {@code role} (its wire name): each attached server and its allowed tools. */
  public List<io.tether.actors.harness.task.ToolGrant> grantsFor(String role) {
    return toolServers.stream().filter(t -> t.roles().containsKey(role))
        .map(t -> new io.tether.actors.harness.task.ToolGrant(t.server(), t.roles().get(role)))
        .toList();
  }

  /** Reads a policy block such as {@code tether.harness.default-policy}. */
  public static RunPolicy fromConfig(Config c) {
    List<Criterion> rubric = c.getConfigList("rubric").stream()
        .map(r -> new Criterion(r.getString("name"), r.getDouble("weight"),
            r.getDouble("threshold")))
        .toList();
    Duration wall = c.getDuration("budget.max-wall-clock");
    return new RunPolicy(
        c.getBoolean("sprints"),
        EvaluatorMode.valueOf(c.getString("evaluator").toUpperCase().replace('-', '_')),
        ContextMode.valueOf(c.getString("context").toUpperCase()),
        c.getInt("contract-rounds"),
        c.getInt("attempts-per-sprint"),
        rubric,
        new Budget(c.getLong("budget.max-tokens"), c.getDouble("budget.max-usd"),
            wall.toMillis()),
        c.getConfigList("tool-servers").stream().map(t -> {
          Map<String, List<String>> roles = new java.util.LinkedHashMap<>();
          t.getConfig("roles").root().keySet().forEach(role ->
              roles.put(role, t.getStringList("roles." + role)));
          return new ToolServer(t.getString("server"), roles);
        }).toList(),
        c.getInt("compact-above-tokens"),
        Map.of(),
        c.getBoolean("egress"));
  }
}
