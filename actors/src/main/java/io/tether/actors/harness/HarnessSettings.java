package io.tether.actors.harness;

import com.typesafe.config.Config;
import io.tether.actors.harness.role.RoleSettings;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunSettings;
import java.time.Duration;

/**
 * The {@code tether.harness} settings; every key is documented in the actors module's {@code
 * reference.conf}.
 *
 * @param askTimeout every ask between harness entities, and from the REST API
 * @param rememberRuns whether sharding remembers runs while they run
 * @param runIndexSize how many of the most recent runs the run index keeps
 * @param sessionWriter where the harness writes its output: {@code session-entity} or {@code
 *     in-memory}
 * @param defaultPolicy the policy of a run whose request names none
 * @param run what the Run entity uses
 * @param role what the role entities use
 * @param defaultModels the model of each role (by wire name) whose run request names none
 *     (an empty value: none)
 */
public record HarnessSettings(
    Duration askTimeout,
    boolean rememberRuns,
    int runIndexSize,
    String sessionWriter,
    RunPolicy defaultPolicy,
    RunSettings run,
    RoleSettings role,
    java.util.Map<String, String> defaultModels) {

  /** Reads {@code tether.harness} from the root configuration. */
  public static HarnessSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.harness");
    return new HarnessSettings(
        c.getDuration("ask-timeout"),
        c.getBoolean("remember-runs"),
        c.getInt("run-index-size"),
        c.getString("session-writer"),
        RunPolicy.fromConfig(c.getConfig("default-policy")),
        RunSettings.fromConfig(root),
        RoleSettings.fromConfig(root),
        java.util.Map.of("planner", c.getString("default-models.planner"),
            "generator", c.getString("default-models.generator"),
            "evaluator", c.getString("default-models.evaluator")));
  }
}
