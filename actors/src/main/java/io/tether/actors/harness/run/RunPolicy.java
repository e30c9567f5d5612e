package io.tether.actors.harness.run;

import com.typesafe.config.Config;
import io.tether.persistence.TetherSerializable;
import java.time.Duration;
import java.util.List;

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
 */
public record RunPolicy(
    boolean sprints,
    EvaluatorMode evaluator,
    ContextMode context,
    int contractRounds,
    int attemptsPerSprint,
    List<Criterion> rubric,
    Budget budget) implements TetherSerializable {

  /** When the evaluator verifies. */
  public enum EvaluatorMode { PER_SPRINT, AT_END }

  /** How a role's context carries from one task to the next. */
  public enum ContextMode { RESET, CONTINUOUS }

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
    if (contractRounds < 0 || attemptsPerSprint < 1 || rubric.isEmpty()) {
      throw new IllegalArgumentException(
          "contract rounds >= 0, attempts per sprint >= 1 and a non-empty rubric are required");
    }
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
            wall.toMillis()));
  }
}
