package io.tether.actors.harness.run;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.harness} settings a {@link Run} uses; every key is documented in the actors
 * module's {@code reference.conf}.
 *
 * @param redeliverAfter how long a run waits before re-sending a task its role did not accept
 * @param taskCheckInterval how often a run re-sends its current task (and renews its session
 *     subscription), so a role whose node died comes back
 * @param snapshotEvery events between snapshots
 */
public record RunSettings(Duration redeliverAfter, Duration taskCheckInterval,
    int snapshotEvery) {

  /** Reads {@code tether.harness} from the root configuration. */
  public static RunSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.harness");
    return new RunSettings(c.getDuration("redeliver-after"), c.getDuration("task-check-interval"),
        c.getInt("snapshot-every"));
  }
}
