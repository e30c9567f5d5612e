package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.StreamClient;
import java.util.concurrent.TimeUnit;

/**
 * Waits until freshly created streams answer reads. The file-backed peer sometimes answers 404
 * for a moment after a 201 when many streams are created at once; a scenario that fills or
 * appends right away would otherwise measure that race instead of its subject. The wait is
 * counted, so the race stays visible in the results.
 */
final class Visibility {
  private Visibility() {}

  /** Returns how many of the streams were not readable at the first attempt. */
  static int await(StreamClient client, int count, java.util.function.IntFunction<String> name)
      throws Exception {
    int late = 0;
    for (int i = 0; i < count; i++) {
      String stream = name.apply(i);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      boolean first = true;
      while (client.read(stream, "now").status() == 404 && System.nanoTime() < deadline) {
        if (first) {
          late++;
          first = false;
        }
        Thread.sleep(20);
      }
    }
    return late;
  }
}
