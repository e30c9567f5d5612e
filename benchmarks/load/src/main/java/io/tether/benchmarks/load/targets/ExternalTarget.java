package io.tether.benchmarks.load.targets;

import java.net.URI;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A server someone else started ({@code --target name=url}); the run neither starts nor stops
 * it, and cannot restart it.
 */
public final class ExternalTarget implements ManagedTarget {
  private final Target target;

  public ExternalTarget(String name, URI url, OptionalLong pid) {
    this.target = new Target(name, url, pid, Map.of("started", "externally"));
  }

  @Override
  public Target target() {
    return target;
  }

  @Override
  public void close() {}
}
