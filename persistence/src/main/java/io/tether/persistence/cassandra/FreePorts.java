package io.tether.persistence.cassandra;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for servers started later (a Cassandra, a node process), chosen below the
 * kernel's ephemeral range. A port the kernel picked for {@code new ServerSocket(0)} comes from
 * that range, which is also where every outgoing connection of the machine gets its local port:
 * in the seconds before the server binds it, a driver or client connection can take it (the
 * benchmark's cluster start failed that way once, "Address already in use"). Below the range
 * only listeners compete, and a port is checked free on every interface before it is handed
 * out; this JVM never hands out the same one twice.
 */
public final class FreePorts {
  private static final int LOWEST = 10_000;
  private static final Set<Integer> handedOut = new HashSet<>();

  private FreePorts() {}

  /** One port, free when this returns. */
  public static synchronized int next() {
    int ceiling = ephemeralLow();
    if (ceiling - LOWEST < 1_000) {
      return kernelChosen();
    }
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
      if (!handedOut.contains(port) && bindable(port)) {
        handedOut.add(port);
        return port;
      }
    }
    return kernelChosen();
  }

  /** {@code count} distinct ports. */
  public static List<Integer> next(int count) {
    List<Integer> ports = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ports.add(next());
    }
    return ports;
  }

  /** Whether {@code port} can be bound on every interface now. */
  public static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The first port of the kernel's ephemeral range (Linux; 32768 where it cannot be read). A
   * server a test starts, or restarts, should listen below it.
   */
  public static int ephemeralLow() {
    try {
      String range = readFirstLine();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  /**
   * The range's line. (Not Files.readString: a /proc file reports size 0, and it returned only
   * its first byte here.)
   */
  private static String readFirstLine() throws IOException {
    try (var reader = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      String line = reader.readLine();
      return line == null ? "" : line.trim();
    }
  }

  private static int kernelChosen() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
