package io.tether.actors.harness;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.harness} settings the entities use; every key is documented in the actors
 * module's {@code reference.conf}.
 */
public record HarnessSettings(
    Duration askTimeout,
    Duration redeliverAfter,
    Duration taskCheckInterval,
    int modelCallRetries,
    int maxOutputTokens,
    int maxCallsPerTask,
    int snapshotEvery,
    RunPolicy defaultPolicy) {

  /** Reads {@code tether.harness} from the root configuration. */
  public static HarnessSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.harness");
    return new HarnessSettings(
        c.getDuration("ask-timeout"),
        c.getDuration("redeliver-after"),
        c.getDuration("task-check-interval"),
        c.getInt("model-call-retries"),
        c.getInt("max-output-tokens"),
        c.getInt("max-calls-per-task"),
        c.getInt("snapshot-every"),
        RunPolicy.fromConfig(c.getConfig("default-policy")));
  }
}
