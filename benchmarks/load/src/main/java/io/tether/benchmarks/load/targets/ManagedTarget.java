package io.tether.benchmarks.load.targets;

import io.tether.benchmarks.load.measure.JvmHeap;
import io.tether.benchmarks.load.measure.LiveHeap;

/** A target whose lifetime the run owns: started before its scenarios, stopped after them. */
public interface ManagedTarget extends AutoCloseable {
  /** The running target. */
  Target target();

  /**
   * Stops the server and starts it again on the same port with the same data, returning the
   * target as it is now (the pid changes). Only targets the run started can do this.
   */
  default Target restart() throws Exception {
    throw new UnsupportedOperationException(target().name() + " was not started by this run");
  }

  /**
   * The Tether source tree (with {@code runtime/target/tether.jar} built) this target runs from,
   * for scenarios that start more Tether nodes of their own (failover); null for anything else.
   */
  default java.nio.file.Path tetherRoot() {
    return null;
  }

  /**
   * The server's live heap after a full collection, or empty when it cannot be read. The
   * default asks a JVM through {@code jcmd} (Tether, or an external JVM given with its pid);
   * the peer overrides it.
   */
  default java.util.Optional<LiveHeap> liveHeap() {
    java.util.OptionalLong used = JvmHeap.usedAfterFullGc(target().pid());
    return used.isPresent()
        ? java.util.Optional.of(new LiveHeap(used.getAsLong(),
            "JVM heap used after a full GC (jcmd GC.run, GC.heap_info)"))
        : java.util.Optional.empty();
  }

  /** Stops the server and waits for it to exit. */
  @Override
  void close();
}
