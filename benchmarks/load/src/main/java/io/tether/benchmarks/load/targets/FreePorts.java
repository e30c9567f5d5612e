package io.tether.benchmarks.load.targets;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;

/**
 * Finds loopback ports nobody is listening on, never one of the ports other engineers' servers
 * use on this machine. There is an unavoidable race between the check and the server's bind;
 * the servers fail loudly if they lose it.
 */
public final class FreePorts {
  private static final Set<Integer> RESERVED = Set.of(7000, 8080, 8081, 8082, 8083, 9042);

  private FreePorts() {}

  public static boolean isFree(int port) {
    if (RESERVED.contains(port) || port <= 1024 || port > 65535) {
      return false;
    }
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A free port in {@code [from, to)} whose derived ports ({@code derived}) are free too. */
  public static int pick(int from, int to, IntFunction<int[]> derived) {
    for (int attempt = 0; attempt < 500; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(from, to);
      if (!isFree(port)) {
        continue;
      }
      boolean all = true;
      for (int d : derived.apply(port)) {
        all &= isFree(d);
      }
      if (all) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in [" + from + ", " + to + ")");
  }
}
