package io.tether.persistence.testkit;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JVM options of a JVM a test starts. {@link #childJvm()}: the build's test JVM options
 * ({@code tether.test.jvm-options}: C1 only, the serial collector, and the same for any local
 * Cassandra). {@link #node()}: those, then the options only for nodes started from
 * {@code tether.jar} ({@code tether.test.node-jvm-options}: the test command's class-data
 * archive of a node's classes, when it trained one).
 */
public final class TestJvmOptions {
  private TestJvmOptions() {}

  /** For a JVM a test starts with its own class path (a harness node, say). */
  public static List<String> childJvm() {
    return of("tether.test.jvm-options");
  }

  /** For a node started from {@code tether.jar}. */
  public static List<String> node() {
    return of("tether.test.jvm-options", "tether.test.node-jvm-options");
  }

  private static List<String> of(String... keys) {
    return Stream.of(keys)
        .flatMap(key -> Arrays.stream(System.getProperty(key, "").split("\\s+")))
        .filter(option -> !option.isBlank())
        .toList();
  }
}
