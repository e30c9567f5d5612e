package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The HTTP probe runs in the run's network: a server of the node (this JVM) on the node's
 * loopback is out of its reach, where unconfined it is reached; and it refuses anything but
 * loopback URLs by default. {@link ProcessToolsTest} and {@link HostileModelTest} probe the
 * run's own app.
 */
class HttpProbeTest {

  @Test
  void aServerOfTheNodeIsOutOfTheRunsReachAndReachedOnlyUnconfined() throws Exception {
    HttpServer server = Sandboxes.textServer(InetAddress.getLoopbackAddress(), "/health", "up");
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/health";
    try {
      String sandboxed = new HttpProbe(Duration.ofSeconds(5), 100, true).get("r1", url);
      assertTrue(sandboxed.startsWith("error=curl: (7) Failed to connect"), sandboxed);
      String unconfined = new HttpProbe(Duration.ofSeconds(5), 100, true,
          new Sandbox(Sandbox.Settings.defaults().withMode(Sandbox.Mode.DANGEROUSLY_UNCONFINED)))
          .get("r1", url);
      assertTrue(unconfined.startsWith("status=200\nup"), unconfined);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void refusesAddressesOutsideLoopback() {
    HttpProbe probe = new HttpProbe(Duration.ofSeconds(5), 100, true);
    // A literal address: nothing is resolved or contacted before the refusal.
    assertThrows(IllegalArgumentException.class, () -> probe.get("r1", "http://192.0.2.1/"));
    assertThrows(IllegalArgumentException.class, () -> probe.get("r1", "file:///etc/passwd"));
  }
}
