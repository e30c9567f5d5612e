package io.tether.actors.harness.role;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.harness} settings a role uses; every key is documented in the actors module's
 * {@code reference.conf}.
 *
 * @param redeliverAfter how long a role waits before asking its Run again (budget, report)
 * @param modelCallRetries how often a failed model call is retried before the task fails
 * @param maxOutputTokens the longest completion a role asks for in one call
 * @param maxCallsPerTask the most model calls one task may make
 * @param snapshotEvery events between snapshots
 * @param compactKeepTurns how many of the latest turns a compaction keeps verbatim
 */
public record RoleSettings(Duration redeliverAfter, int modelCallRetries, int maxOutputTokens,
    int maxCallsPerTask, int snapshotEvery, int compactKeepTurns) {

  /** Reads {@code tether.harness} from the root configuration. */
  public static RoleSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.harness");
    return new RoleSettings(c.getDuration("redeliver-after"), c.getInt("model-call-retries"),
        c.getInt("max-output-tokens"), c.getInt("max-calls-per-task"),
        c.getInt("snapshot-every"), c.getInt("compact-keep-turns"));
  }
}
