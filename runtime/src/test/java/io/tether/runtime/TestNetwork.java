package io.tether.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test hosts of the test's own: a Linux bridge with one network namespace per host, each with a
 * veth into the bridge and an address on a private /24 that exists only on this machine. Needs
 * root and {@code ip}; {@link #available()} says whether this machine allows it.
 *
 * <p>{@link #isolate} partitions one host from the others with blackhole routes while it keeps
 * reaching the bridge address, where {@link #forward} exposes loopback services (the test's
 * Cassandra): the dangerous kind of partition, in which the cut-off node could still write.
 */
final class TestNetwork implements AutoCloseable {
  private final String tag;
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();
  private final List<ServerSocket> forwards = new ArrayList<>();

  TestNetwork() {
    long id = ProcessHandle.current().pid() % 200 + 20;
    this.tag = "tt" + id;
    this.subnet = "10.231." + id;
  }

  /** Why namespaces cannot be made here, or null when they can (root with iproute2). */
  static String unavailableReason() {
    if (!ProcessHandle.current().info().user().map("root"::equals).orElse(false)) {
      return "the test JVM does not run as root";
    }
    try {
      Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "`ip netns list` failed: " + out;
      }
      return null;
    } catch (Exception e) {
      return "`ip` cannot run: " + e.getMessage();
    }
  }

  /**
   * Makes a skip visible: the failsafe console shows only a count, and the test's own output goes
   * to a report file, so the reason is also appended to {@code target/skipped-tests.txt} and
   * written to the JVM's original standard error.
   */
  static void reportSkip(String why) {
    String line = "SKIPPED " + why;
    System.err.println(line);
    try {
      java.nio.file.Path file = java.nio.file.Path.of(System.getProperty("tether.test.work-dir"))
          .getParent().resolve("skipped-tests.txt");
      java.nio.file.Files.writeString(file, line + System.lineSeparator(), StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("could not record the skip: " + e);
    }
  }

  /** The bridge's own address: how hosts reach services of the root namespace. */
  String gateway() {
    return subnet + ".1";
  }

  String hostAddress(int host) {
    return subnet + "." + (10 + host);
  }

  String namespace(int host) {
    return tag + "n" + host;
  }

  /** The command prefix that runs a program on host {@code host}. */
  List<String> launchPrefix(int host) {
    return List.of("ip", "netns", "exec", namespace(host));
  }

  TestNetwork create(int hosts) throws Exception {
    String bridge = tag + "br";
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", gateway() + "/24", "dev", bridge);
    ip("link", "set", bridge, "up");
    for (int h = 1; h <= hosts; h++) {
      String ns = namespace(h);
      ip("netns", "add", ns);
      namespaces.add(ns);
      String outside = tag + "v" + h;
      String inside = tag + "i" + h;
      ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns);
      ip("link", "set", outside, "master", bridge);
      ip("link", "set", outside, "up");
      ip("netns", "exec", ns, "ip", "addr", "add", hostAddress(h) + "/24", "dev", inside);
      ip("netns", "exec", ns, "ip", "link", "set", inside, "up");
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
    return this;
  }

  /** Cuts {@code host} off from every other host; both keep reaching the gateway. */
  void isolate(int host, int hosts) throws Exception {
    for (int other = 1; other <= hosts; other++) {
      if (other != host) {
        ip("netns", "exec", namespace(host), "ip", "route", "add", "blackhole", hostAddress(other) + "/32");
        ip("netns", "exec", namespace(other), "ip", "route", "add", "blackhole", hostAddress(host) + "/32");
      }
    }
  }

  /** Exposes {@code 127.0.0.1:targetPort} on {@code gateway():listenPort} with a TCP relay. */
  void forward(int listenPort, int targetPort) throws IOException {
    ServerSocket server = new ServerSocket(listenPort, 50, InetAddress.getByName(gateway()));
    forwards.add(server);
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          Socket upstream = new Socket("127.0.0.1", targetPort);
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException closed) {
          return;
        }
      }
    }, "forward-" + listenPort);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buffer)) != -1; ) {
          out.write(buffer, 0, n);
        }
      } catch (IOException ignored) {
        // one side closed: close both below
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }, "pump");
    t.setDaemon(true);
    t.start();
  }

  private static void ip(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("ip");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  @Override
  public void close() {
    for (ServerSocket s : forwards) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    for (String ns : namespaces) {
      try {
        ip("netns", "del", ns);
      } catch (Exception ignored) {
        // best effort: the bridge removal below still runs
      }
    }
    try {
      ip("link", "del", tag + "br");
    } catch (Exception ignored) {
      // not created
    }
  }
}
