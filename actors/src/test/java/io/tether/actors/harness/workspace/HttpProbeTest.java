package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The HTTP probe reaches loopback and refuses anything else by default. */
class HttpProbeTest {

  private final HttpProbe probe = new HttpProbe(Duration.ofSeconds(5), 100, true);

  @Test
  void probesAnAppOnLoopback() throws Exception {
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/health", exchange -> {
      byte[] body = "up".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String result = probe.get("http://127.0.0.1:" + server.getAddress().getPort() + "/health");
      assertTrue(result.startsWith("status=200\nup"), result);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void refusesAddressesOutsideLoopback() {
    // A literal address: nothing is resolved or contacted before the refusal.
    assertThrows(IllegalArgumentException.class, () -> probe.get("http://192.0.2.1/"));
    assertThrows(IllegalArgumentException.class, () -> probe.get("file:///etc/passwd"));
  }
}
