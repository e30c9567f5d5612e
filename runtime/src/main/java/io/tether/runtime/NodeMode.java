package io.tether.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;

/**
 * {@code tether node}: one member of a real cluster. It loads the profile named by
 * {@code -Dconfig.resource} or {@code -Dconfig.file}, or {@code production.conf} when neither is
 * given, and runs until coordinated shutdown (SIGTERM) completes.
 */
final class NodeMode {
  private NodeMode() {}

  static void run(String[] args) throws Exception {
    TetherNode node = TetherNode.start(loadConfig(), TetherNode.Joining.CONFIGURED, false);
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
