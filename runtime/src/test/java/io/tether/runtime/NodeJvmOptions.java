package io.tether.runtime;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JVM options of a node a test starts: the build's test JVM options
 * ({@code tether.test.jvm-options}, C1 only and the serial collector) followed by those only for
 * nodes ({@code tether.test.node-jvm-options}: the test command's class-data archive of the
 * node's classes, when it trained one).
 */
final class NodeJvmOptions {
  private NodeJvmOptions() {}

  static List<String> get() {
    return Stream.of("tether.test.jvm-options", "tether.test.node-jvm-options")
        .flatMap(key -> Arrays.stream(System.getProperty(key, "").split("\\s+")))
        .filter(option -> !option.isBlank())
        .toList();
  }
}
