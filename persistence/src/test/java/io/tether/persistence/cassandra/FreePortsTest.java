package io.tether.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ports for later servers come from below the ephemeral range, distinct and bindable. */
class FreePortsTest {

  @Test
  void portsAreDistinctBindableAndBelowTheEphemeralRange() throws Exception {
    int ephemeralLow;
    try (var range = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      ephemeralLow = Integer.parseInt(range.readLine().trim().split("\\s+")[0]);
    }
    List<Integer> ports = FreePorts.next(20);
    assertEquals(20, new HashSet<>(ports).size(), ports.toString());
    for (int port : ports) {
      assertTrue(port >= 10_000 && port < ephemeralLow, port + " is not below " + ephemeralLow);
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      }
    }
  }
}
