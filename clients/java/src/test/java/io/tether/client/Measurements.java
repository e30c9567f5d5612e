package io.tether.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Figures the tests measure on the way (reconnect times), printed and appended to
 * {@code target/client-measurements.txt}, so a run's numbers can be quoted.
 */
final class Measurements {
  private Measurements() {}

  static synchronized void record(String what, List<Long> millis) {
    List<Long> sorted = millis.stream().sorted().toList();
    String line = String.format("%s: n=%d min=%d median=%d max=%d all=%s%n", what, sorted.size(),
        sorted.get(0), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), millis);
    System.out.print(line);
    Path out = Path.of(System.getProperty("tether.test.work-dir", "target/test-work"))
        .resolveSibling("client-measurements.txt");
    try {
      Files.writeString(out, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.out.println("(could not write " + out + ": " + e + ")");
    }
  }
}
