package io.tether.benchmarks.load.targets;

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

  /** Stops the server and waits for it to exit. */
  @Override
  void close();
}
