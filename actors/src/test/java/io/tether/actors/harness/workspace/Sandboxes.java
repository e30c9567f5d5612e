package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Test helpers for the sandbox. */
public final class Sandboxes {

  private Sandboxes() {}

  /**
   * Makes a JUnit temporary directory (0700) searchable, as a workspace root must be: bubblewrap
   * mounts a workspace by its path, as the sandbox user.
   */
  public static Path reachable(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    return dir;
  }

  /**
   * A started HTTP server on {@code address} (a free port) answering GET {@code path} with 200
   * and {@code body}: a server of the node's, or of the world, for a run to try to reach.
   */
  public static com.sun.net.httpserver.HttpServer textServer(java.net.InetAddress address,
      String path, String body) throws IOException {
    var server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(address, 0), 0);
    server.createContext(path, exchange -> {
      byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
    return server;
  }

  /**
   * The first IPv4 address of an interface of this machine that is up and not loopback: a
   * stand-in for an address beyond a run's loopback (tests reach no other host).
   */
  public static java.net.InetAddress nonLoopbackAddress() throws IOException {
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        for (var address : java.util.Collections.list(nic.getInetAddresses())) {
          if (address instanceof java.net.Inet4Address) {
            return address;
          }
        }
      }
    }
    throw new AssertionError("this test needs a non-loopback IPv4 address on the machine");
  }
}
