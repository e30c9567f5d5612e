package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.measure.CpuMeter;
import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import java.util.List;

/**
 * Where the CPU went while a scenario ran, as the {@code cpu:} metrics every scenario reports:
 * the server, the processes it started (Tether's Cassandra), the load generator and the rest of
 * the machine, beside the wall time. With the machine's cores, they show when the cores, not the
 * server, set a limit.
 */
public final class CpuFigures {
  private CpuFigures() {}

  /** The metrics for {@code cpu}, in the order the tables show them. */
  public static List<Metric> of(CpuMeter.Usage cpu) {
    return List.of(
        new Metric("cpu: server", cpu.server(), "s", Better.NEITHER),
        new Metric("cpu: processes the server started", cpu.serverChildren(), "s",
            Better.NEITHER),
        new Metric("cpu: load generator", cpu.generator(), "s", Better.NEITHER),
        new Metric("cpu: rest of the machine", cpu.restOfMachine(), "s", Better.NEITHER),
        new Metric("wall time", cpu.wallSeconds(), "s", Better.NEITHER));
  }

  /**
   * The metrics of a scenario that runs servers of its own beside the idle target (failover):
   * those servers are processes the generator started, so their CPU, killed ones included once
   * reaped, is counted with the generator's.
   */
  public static List<Metric> ofOwnServers(CpuMeter.Usage cpu) {
    return List.of(
        new Metric("cpu: idle target and its processes", cpu.server() + cpu.serverChildren(),
            "s", Better.NEITHER),
        new Metric("cpu: load generator and the servers it started", cpu.generator(), "s",
            Better.NEITHER),
        new Metric("cpu: rest of the machine", cpu.restOfMachine(), "s", Better.NEITHER),
        new Metric("wall time", cpu.wallSeconds(), "s", Better.NEITHER));
  }

  /** Adds them to a scenario measuring its own CPU (one that restarts the server). */
  static void add(ScenarioResult.Builder r, CpuMeter.Usage cpu) {
    for (Metric m : of(cpu)) {
      r.metric(m.name(), m.value(), m.unit(), m.better());
    }
  }
}
