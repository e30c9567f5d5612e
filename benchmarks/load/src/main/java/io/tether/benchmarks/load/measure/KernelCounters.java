package io.tether.benchmarks.load.measure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Machine-wide TCP counters from {@code /proc/net/netstat}. {@code ListenOverflows} counts
 * connection attempts a listening socket's accept queue had no room for (the kernel drops the
 * SYN; the client retries after a second or more), so its increase while clients connect shows a
 * server whose listen backlog or accept loop was the limit. Machine-wide: other processes'
 * listeners count too.
 */
public final class KernelCounters {
  private KernelCounters() {}

  /** {@code TcpExt: ListenOverflows}, or empty when unreadable (not Linux). */
  public static OptionalLong listenOverflows() {
    return tcpExt("ListenOverflows");
  }

  private static OptionalLong tcpExt(String name) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/net/netstat"));
      for (int i = 0; i + 1 < lines.size(); i++) {
        if (lines.get(i).startsWith("TcpExt:") && lines.get(i + 1).startsWith("TcpExt:")) {
          String[] keys = lines.get(i).trim().split("\\s+");
          String[] values = lines.get(i + 1).trim().split("\\s+");
          for (int k = 1; k < Math.min(keys.length, values.length); k++) {
            if (keys[k].equals(name)) {
              return OptionalLong.of(Long.parseLong(values[k]));
            }
          }
        }
      }
    } catch (Exception e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }
}
