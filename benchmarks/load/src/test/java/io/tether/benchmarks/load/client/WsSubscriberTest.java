package io.tether.benchmarks.load.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.benchmarks.load.measure.DeliverySink;
import io.tether.benchmarks.load.measure.RateTimeline;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Against a real socket: a minimal session WebSocket server (RFC 6455 handshake and unmasked
 * text frames) that replays two events and up-to-date, then drops the first connection; the
 * second connection must resume after the last offset delivered.
 */
class WsSubscriberTest {
  private ServerSocket server;
  private Thread acceptor;
  private final List<String> resumes = new CopyOnWriteArrayList<>();
  private final List<String> paths = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    // One thread per connection, as a real server: the first connection's drain must not hold
    // up the handshake of the second.
    acceptor = new Thread(() -> {
      int connection = 0;
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException e) {
          return; // the test is over
        }
        int n = ++connection;
        Thread handler = new Thread(() -> {
          try (s) {
            serve(s, n);
          } catch (IOException e) {
            // The test is over, or the client went away.
          }
        }, "ws-test-connection-" + n);
        handler.setDaemon(true);
        handler.start();
      }
    }, "ws-test-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stopServer() throws IOException {
    server.close();
  }

  private void serve(Socket s, int connection) throws IOException {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    String key = null;
    StringBuilder line = new StringBuilder();
    String requestLine = null;
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        String l = line.toString().trim();
        line.setLength(0);
        if (requestLine == null) {
          requestLine = l;
        } else if (l.isEmpty()) {
          break;
        } else if (l.toLowerCase().startsWith("sec-websocket-key:")) {
          key = l.substring(l.indexOf(':') + 1).trim();
        }
      } else {
        line.append((char) c);
      }
    }
    paths.add(requestLine.split(" ")[1]);
    String accept;
    try {
      accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
          (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    resumes.add(readText(new DataInputStream(in)));
    if (connection == 1) {
      text(out, "{\"type\":\"event\",\"offset\":\"0001_1\",\"event\":{\"n\":0,\"t\":1}}");
      text(out, "{\"type\":\"event\",\"offset\":\"0001_2\","
          + "\"event\":{\"type\":\"presence.joined\"}}");
      text(out, "{\"type\":\"up-to-date\",\"offset\":\"0001_2\"}");
      text(out, "{\"type\":\"event\",\"offset\":\"0002_1\",\"event\":{\"n\":1,\"t\":2}}");
      // Dropped without a close frame, as when the node dies; with a FIN rather than a reset.
      // The JDK client may report the end of input before it hands over the last event, so
      // the reader may resume after 0001_2 or after 0002_1: both are its last delivered offset.
      s.shutdownOutput();
      s.setSoTimeout(10_000);
      while (in.read() != -1) {
        // drain what the client still sends until it closes its side
      }
    } else {
      if (resumes.get(resumes.size() - 1).contains("\"after\":\"0001_2\"")) {
        // a resume from before 0002_1 gets it again, as from a real session
        text(out, "{\"type\":\"event\",\"offset\":\"0002_1\",\"event\":{\"n\":1,\"t\":2}}");
      }
      text(out, "{\"type\":\"event\",\"offset\":\"0003_1\",\"event\":{\"n\":2,\"t\":3}}");
      text(out, "{\"type\":\"up-to-date\",\"offset\":\"0003_1\"}");
      text(out, "{\"type\":\"error\",\"code\":\"bad-frame\",\"detail\":\"x\"}");
      out.flush();
      readText(new DataInputStream(in)); // the client's close frame
    }
  }

  private static void text(OutputStream out, String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    out.write(0x81);
    if (payload.length < 126) {
      out.write(payload.length);
    } else {
      out.write(126);
      out.write(payload.length >> 8);
      out.write(payload.length & 0xff);
    }
    out.write(payload);
  }

  /** One client frame (masked, as clients must send), unmasked. */
  private static String readText(DataInputStream in) throws IOException {
    in.readUnsignedByte();
    int len = in.readUnsignedByte() & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    }
    byte[] mask = new byte[4];
    in.readFully(mask);
    byte[] payload = new byte[len];
    in.readFully(payload);
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    for (int i = 0; i < len; i++) {
      plain.write(payload[i] ^ mask[i % 4]);
    }
    return plain.toString(StandardCharsets.UTF_8);
  }

  @Test
  void resumesAfterTheLastOffsetDeliveredWhenTheSocketDrops() throws Exception {
    URI base = URI.create("http://127.0.0.1:" + server.getLocalPort());
    StreamClient client = new StreamClient(HttpClients.newClient("test"), base, "/v1/stream/",
        Duration.ofSeconds(5));
    DeliverySink sink = new DeliverySink(new RateTimeline(1));
    WsSubscriber reader = new WsSubscriber(client.http(), List.of(client.sessionSocketUri("s")),
        null, "phone", "now", sink, null, WsSubscriber.Settings.DEFAULT);

    reader.start();
    reader.ready().get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (reader.errorFrames() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    reader.stop();
    reader.finished().get(10, TimeUnit.SECONDS);

    assertEquals(List.of("/v1/sessions/s/ws", "/v1/sessions/s/ws"), paths);
    assertEquals(2, resumes.size(), resumes.toString());
    assertTrue(resumes.get(0).contains("\"after\":\"now\""), resumes.get(0));
    assertTrue(resumes.get(0).contains("\"device\":\"phone\""), resumes.get(0));
    assertTrue(resumes.get(1).contains("\"after\":\"0002_1\"")
        || resumes.get(1).contains("\"after\":\"0001_2\""), resumes.get(1));
    assertEquals(3, sink.delivered());
    assertEquals(1, reader.eventsWithoutTimestamp());
    assertEquals(0, reader.sequenceAnomalies());
    assertEquals(1, reader.reconnects());
    assertEquals(1, reader.errorFrames());
    assertEquals("0003_1", reader.lastOffset());
    assertNotNull(reader.connectedTo());
  }

  @Test
  void probeSaysWhyAServerWithoutTheSocketFails() throws Exception {
    server.close();
    try (ServerSocket plain = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try (Socket s = plain.accept()) {
          s.getInputStream().read(new byte[4096]);
          s.getOutputStream().write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          Thread.sleep(500);
        } catch (Exception e) {
          // done
        }
      });
      t.setDaemon(true);
      t.start();
      String why = WsSubscriber.probe(HttpClients.newClient("probe"),
          URI.create("ws://127.0.0.1:" + plain.getLocalPort() + "/v1/sessions/p/ws"), null,
          Duration.ofSeconds(5));
      assertNotNull(why);
      assertTrue(why.contains("404"), why);
    }
  }
}
