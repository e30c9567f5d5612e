package io.tether.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a node's configuration: system properties over environment overrides over explicit
 * overrides over the profile over every module's {@code reference.conf}.
 *
 * <p>Most environment variables are read by the HOCON files themselves ({@code ${?VAR}}); the
 * ones that HOCON cannot express, such as a list of Cassandra contact points, are applied here.
 */
final class ConfigLoader {
  private ConfigLoader() {}

  /** Loads {@code profileResource} (e.g. {@code dev.conf}) with the given overrides on top. */
  static Config load(String profileResource, Map<String, Object> overrides) {
    Config profile = ConfigFactory.parseResourcesAnySyntax(profileResource);
    return ConfigFactory.load(fromEnvironment(System.getenv())
        .withFallback(ConfigFactory.parseMap(overrides))
        .withFallback(profile));
  }

  /** The overrides taken from environment variables that HOCON substitution cannot express. */
  static Config fromEnvironment(Map<String, String> env) {
    Map<String, Object> values = new HashMap<>();
    String contactPoints = env.get("TETHER_CASSANDRA_CONTACT_POINTS");
    if (contactPoints != null && !contactPoints.isBlank()) {
      List<String> points = Arrays.stream(contactPoints.split(","))
          .map(String::trim).filter(s -> !s.isEmpty()).toList();
      values.put("datastax-java-driver.basic.contact-points", points);
    }
    String seeds = env.get("TETHER_SEED_NODES");
    if (seeds != null && !seeds.isBlank()) {
      values.put("pekko.cluster.seed-nodes", Arrays.stream(seeds.split(","))
          .map(String::trim).filter(s -> !s.isEmpty()).toList());
    }
    return ConfigFactory.parseMap(values);
  }
}
