package io.tether.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of the node, for real network faults: {@link #dropAll()}
 * cuts every open connection (both sides see the TCP connection end, as when a network path
 * dies), and {@link #cutEveryNthResponse(int)} lets requests through but cuts the connection
 * instead of relaying the answer to every n-th one, so the server did the work and the client
 * never heard (the case an idempotent producer exists for). {@link #cutNextAfterFrames} relays
 * the next connection's first WebSocket frames and part of one more, then cuts it: a drop at an
 * exact point of a replay.
 */
final class ChaosProxy implements AutoCloseable {
  private final int target;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger responses = new AtomicInteger();
  private final AtomicInteger cut = new AtomicInteger();
  private volatile int cutEvery;
  private volatile int[] cutNextAfter;
  private volatile boolean closed;

  ChaosProxy(int targetPort) throws IOException {
    this.target = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "chaos-proxy-accept");
    accept.setDaemon(true);
    accept.start();
  }

  int port() {
    return server.getLocalPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  /** Connections accepted so far. */
  int connections() {
    return connections.get();
  }

  /** Responses cut so far. */
  int cut() {
    return cut.get();
  }

  /** From now on, cut the connection instead of relaying every n-th response (0: never). */
  void cutEveryNthResponse(int n) {
    this.cutEvery = n;
  }

  /**
   * The next connection is cut after the server sent {@code frames} whole WebSocket frames and
   * {@code extraBytes} bytes of the one after (its upgrade response is relayed whole).
   */
  void cutNextAfterFrames(int frames, int extraBytes) {
    cutNextAfter = new int[] {frames, extraBytes};
  }

  /** Ends every open connection at once; returns how many sockets it closed. */
  int dropAll() {
    int n = 0;
    for (Socket s : open) {
      closeQuietly(s);
      n++;
    }
    return n;
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    dropAll();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        continue;
      }
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        connections.incrementAndGet();
        open.add(client);
        open.add(upstream);
        Pair pair = new Pair(client, upstream);
        int[] cutAfter = cutNextAfter;
        cutNextAfter = null;
        pair.frameCut = cutAfter == null ? null : new FrameCounter(cutAfter[0], cutAfter[1]);
        start(() -> pair.pump(client, upstream, false), "chaos-proxy-up");
        start(() -> pair.pump(upstream, client, true), "chaos-proxy-down");
      } catch (IOException upstreamRefused) {
        // the node is down: the client sees its connection end, as it would without the proxy
        closeQuietly(client);
      }
    }
  }

  /** One proxied connection; a response starts with the first bytes after request bytes. */
  private final class Pair {
    private final Socket client;
    private final Socket upstream;
    private volatile boolean requestSeen;
    FrameCounter frameCut;

    Pair(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void pump(Socket from, Socket to, boolean downstream) {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (!downstream) {
            requestSeen = true;
          } else if (requestSeen) {
            requestSeen = false;
            int every = cutEvery;
            if (every > 0 && responses.incrementAndGet() % every == 0) {
              cut.incrementAndGet();
              break;
            }
          }
          if (downstream && frameCut != null) {
            int allowed = frameCut.allowed(buffer, n);
            out.write(buffer, 0, allowed);
            out.flush();
            if (allowed < n || frameCut.done()) {
              break;
            }
            continue;
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException ended) {
        // one side went away: end both below
      } finally {
        closeQuietly(client);
        closeQuietly(upstream);
        open.remove(client);
        open.remove(upstream);
      }
    }
  }

  /**
   * Counts the server's bytes: the HTTP upgrade response up to its blank line, then WebSocket
   * frames (unmasked, as a server sends them), and says how many of each read may pass.
   */
  static final class FrameCounter {
    private final int frames;
    private final int extra;
    private int headerMatch;
    private boolean inFrames;
    private int whole;
    private final byte[] header = new byte[10];
    private int headerRead;
    private long payloadLeft = -1;
    private int extraSent;

    FrameCounter(int frames, int extra) {
      this.frames = frames;
      this.extra = extra;
    }

    boolean done() {
      return whole >= frames && extraSent >= extra;
    }

    /** How many of the {@code n} bytes may be relayed. */
    int allowed(byte[] b, int n) {
      for (int i = 0; i < n; i++) {
        if (!inFrames) {
          byte[] end = {'\r', '\n', '\r', '\n'};
          headerMatch = b[i] == end[headerMatch] ? headerMatch + 1 : (b[i] == '\r' ? 1 : 0);
          if (headerMatch == 4) {
            inFrames = true;
          }
          continue;
        }
        if (whole >= frames) {
          if (extraSent >= extra) {
            return i;
          }
          extraSent++;
          continue;
        }
        if (payloadLeft < 0) {
          header[headerRead++] = b[i];
          int need = headerLength();
          if (need > 0 && headerRead == need) {
            payloadLeft = payloadLength();
            headerRead = 0;
            if (payloadLeft == 0) {
              whole++;
              payloadLeft = -1;
            }
          }
          continue;
        }
        if (--payloadLeft == 0) {
          whole++;
          payloadLeft = -1;
        }
      }
      return n;
    }

    private int headerLength() {
      if (headerRead < 2) {
        return 0;
      }
      int len = header[1] & 0x7f;
      return len == 126 ? 4 : len == 127 ? 10 : 2;
    }

    private long payloadLength() {
      int len = header[1] & 0x7f;
      if (len == 126) {
        return ((header[2] & 0xff) << 8) | (header[3] & 0xff);
      }
      if (len == 127) {
        long v = 0;
        for (int i = 2; i < 10; i++) {
          v = (v << 8) | (header[i] & 0xff);
        }
        return v;
      }
      return len;
    }
  }

  private static void start(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // already closed
    }
  }
}
