package io.tether.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;

/**
 * {@code tether node}: one member of a real cluster. It loads the profile named by
 * {@code -Dconfig.resource} or {@code -Dconfig.file}, or {@code production.conf} when neither is
 * given, and runs until coordinated shutdown (SIGTERM, or the split-brain resolver downing it)
 * completes.
 *
 * <p>A node process always ends with its {@code ActorSystem}: {@code exit-jvm} is on here (the
 * shared config keeps it off, since tests run several systems in one JVM), so a downed node whose
 * termination stalls is still ended by coordinated shutdown once {@code actor-system-terminate}
 * times out, and its supervisor restarts it, instead of it lingering half-stopped.
 */
final class NodeMode {
  private NodeMode() {}

  static void run(String[] args) throws Exception {
    Config config = ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on")
        .withFallback(loadConfig());
    TetherNode node = TetherNode.start(config, TetherNode.Joining.CONFIGURED, false);
    node.system().getWhenTerminated().toCompletableFuture().get();
    System.exit(0);
  }

  /** The node's configuration: an explicitly named profile, or production.conf. */
  static Config loadConfig() {
    String named = System.getProperty("config.resource");
    if (System.getProperty("config.file") != null || System.getProperty("config.url") != null) {
      return ConfigFactory.load(ConfigLoader.fromEnvironment(System.getenv())
          .withFallback(ConfigFactory.load()));
    }
    return ConfigLoader.load(named != null ? named : "production.conf", Map.of());
  }
}
