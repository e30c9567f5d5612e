package io.tether.benchmarks.load.report;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Describes the machine a run measured on: CPU, cores, memory, kernel, Java and Node, and how
 * busy it was (load average and the busiest other processes), because the figures mean little
 * without it on a shared machine.
 */
public final class MachineInfo {
  private MachineInfo() {}

  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpu", cpuModel());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memTotal", firstLine("/proc/meminfo", "MemTotal:"));
    m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("node", run("node", "--version"));
    m.put("loadAverageAtStart", loadAverage());
    m.put("busiestProcessesAtStart", busiest());
    return m;
  }

  /** The 1, 5 and 15 minute load averages. */
  public static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (Exception e) {
      return "?";
    }
  }

  /** The five processes using the most CPU (command and %CPU), to show who shared the machine. */
  public static List<String> busiest() {
    String out = run("ps", "-eo", "pcpu,rss,comm", "--sort=-pcpu", "--no-headers");
    List<String> lines = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (!line.isBlank() && lines.size() < 6) {
        String[] f = line.trim().split("\\s+", 3);
        if (f.length == 3 && !f[2].equals("ps")) {
          lines.add(f[2] + " " + f[0] + "% CPU, " + (Long.parseLong(f[1]) / 1024) + " MB");
        }
      }
    }
    return lines;
  }

  private static String cpuModel() {
    String line = firstLine("/proc/cpuinfo", "model name");
    int colon = line.indexOf(':');
    return colon < 0 ? line : line.substring(colon + 1).trim();
  }

  private static String firstLine(String file, String prefix) {
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.startsWith(prefix)) {
          return line.substring(prefix.length()).trim();
        }
      }
    } catch (Exception e) {
      // Not Linux: leave the field unknown.
    }
    return "?";
  }

  private static String run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (Exception e) {
      return "?";
    }
  }
}
