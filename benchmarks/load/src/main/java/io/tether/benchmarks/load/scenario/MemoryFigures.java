package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.measure.LiveHeap;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.util.Optional;

/**
 * The live-heap figures of a memory scenario, the same way for every target: the server's heap
 * after a full collection before the load and while holding it, and the difference per item.
 * They stand beside the RSS figures, which keep memory the collector has not returned.
 */
final class MemoryFigures {
  private MemoryFigures() {}

  /**
   * Adds {@code "server live heap before"}, {@code "server live heap holding"} (MB) and
   * {@code "server live heap per <item>"} (bytes), or a note saying why there are none.
   */
  static void liveHeap(ScenarioResult.Builder r, Optional<LiveHeap> before,
      Optional<LiveHeap> holding, long count, String item) {
    if (before.isEmpty() || holding.isEmpty()) {
      r.note("live heap not readable on this target (no JVM pid for jcmd, or a Node peer "
          + "without --expose-gc)");
      return;
    }
    r.metric("server live heap before", before.get().bytes() / 1e6, "MB", Better.NEITHER);
    r.metric("server live heap holding", holding.get().bytes() / 1e6, "MB", Better.LOWER);
    if (count > 0) {
      r.metric("server live heap per " + item,
          (double) (holding.get().bytes() - before.get().bytes()) / count, "bytes",
          Better.LOWER);
    }
    r.note("live heap: " + holding.get().how() + ", before the load and while holding it");
  }
}
