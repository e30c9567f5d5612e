package io.tether.benchmarks.load.measure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Where the CPU went during a scenario, read from {@code /proc}: the server process, the
 * processes it started (Tether's local Cassandra), this load generator, and the rest of the
 * machine (other people's work on a shared machine). This is what tells whether a figure was
 * limited by the server, its database, the generator, or a busy machine.
 *
 * <p>The generator counts with the processes it starts itself (the Node process of the peer
 * suite, {@code jcmd}), alive or already exited and reaped ({@code cutime}/{@code cstime}), but
 * never the server's own process tree, even when the generator started the server.
 */
public final class CpuMeter {
  /** CPU seconds consumed so far, per party, and the machine's busy seconds. */
  public record Snapshot(long nanos, double server, double serverChildren, double generator,
      double machineBusy) {}

  /** CPU seconds per party between two snapshots, and the wall time between them. */
  public record Usage(double wallSeconds, double server, double serverChildren, double generator,
      double restOfMachine) {}

  private static final double TICKS = 100.0;

  private CpuMeter() {}

  public static Snapshot snapshot(OptionalLong serverPid) {
    double server = 0;
    double children = 0;
    if (serverPid.isPresent()) {
      server = processSeconds(serverPid.getAsLong());
      List<ProcessHandle> descendants = ProcessHandle.of(serverPid.getAsLong())
          .map(h -> h.descendants().toList()).orElse(List.of());
      for (ProcessHandle d : descendants) {
        children += processSeconds(d.pid());
      }
    }
    return new Snapshot(System.nanoTime(), server, children,
        generatorTree(ProcessHandle.current(), serverPid), machineBusySeconds());
  }

  /**
   * CPU of {@code process} and of every process below it, alive or reaped, leaving out the
   * server's subtree. A reaped process's time moves into its parent's {@code cutime}, so the sum
   * only grows while the tree runs.
   */
  private static double generatorTree(ProcessHandle process, OptionalLong serverPid) {
    double seconds = processSeconds(process.pid()) + reapedChildrenSeconds(process.pid());
    for (ProcessHandle child : process.children().toList()) {
      if (serverPid.isEmpty() || child.pid() != serverPid.getAsLong()) {
        seconds += generatorTree(child, serverPid);
      }
    }
    return seconds;
  }

  public static Usage between(Snapshot a, Snapshot b) {
    double server = Math.max(0, b.server() - a.server());
    double children = Math.max(0, b.serverChildren() - a.serverChildren());
    double generator = Math.max(0, b.generator() - a.generator());
    double busy = Math.max(0, b.machineBusy() - a.machineBusy());
    return new Usage((b.nanos() - a.nanos()) / 1e9, server, children, generator,
        Math.max(0, busy - server - children - generator));
  }

  /** User plus system time of one process ({@code /proc/<pid>/stat} fields 14 and 15). */
  private static double processSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
    } catch (Exception e) {
      return 0;
    }
  }

  /**
   * User plus system time of the children {@code pid} has waited for ({@code /proc/<pid>/stat}
   * fields 16 and 17, each including its own reaped children).
   */
  private static double reapedChildrenSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / TICKS;
    } catch (Exception e) {
      return 0;
    }
  }

  /** Busy time of all CPUs since boot (the first line of {@code /proc/stat}). */
  private static double machineBusySeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      return busy / TICKS;
    } catch (Exception e) {
      return 0;
    }
  }
}
