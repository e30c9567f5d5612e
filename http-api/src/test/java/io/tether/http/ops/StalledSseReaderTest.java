package io.tether.http.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A Server-Sent Events reader that stops reading (its socket's receive buffer is full and TCP
 * back-pressure reaches the server) while 24 MiB are appended to its stream: the node's heap
 * after GC must grow by well under what was appended, because an SSE response pulls the next
 * read from the stream entity only when the socket takes more. Released, the reader receives
 * every event in order, none missing, none twice, on the same connection.
 */
class StalledSseReaderTest {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
  private static final Pattern NEXT_OFFSET = Pattern.compile("\"streamNextOffset\":\"([^\"]+)\"");

  @Test
  void aStalledSseReaderCostsBoundedMemoryAndCatchesUpInOrder() throws Exception {
    // The stalled connection must stay open while it is measured: no SSE max duration and no
    // idle timeout within the test (both close a stalled reader in production, which resumes).
    try (OpsTestServer server = OpsTestServer.start("stalled-sse", """
        tether.streams.sse-max-duration = 10m
        pekko.http.server.idle-timeout = 10m
        """,
        OpsTestServer.sharedCassandra("stalled_sse"))) {
      String id = "stalled-sse";
      int port = server.binding.localAddress().getPort();
      LoadFaultsTest.createJson(server, id);
      String pad = "q".repeat(8 * 1024);
      // Warm up the write path and the SSE read path on another stream first, so one-off pools,
      // caches and loaded classes are not counted against the stalled reader.
      LoadFaultsTest.createJson(server, "stalled-sse-warm-up");
      LoadFaultsTest.appendBatches(server, "stalled-sse-warm-up", 50, pad);
      try (SseConnection warm = SseConnection.open(port, "stalled-sse-warm-up", "-1")) {
        List<Integer> warmed = new ArrayList<>();
        while (warmed.size() < 1000) {
          SseEvent e = warm.next();
          assertTrue(e != null, "the warm-up read ended early after " + warmed.size());
          warmed.addAll(numbers(e));
        }
      }

      SseConnection stalled = SseConnection.open(port, id, "-1");
      long before = LoadFaultsTest.heapAfterGc();
      int items = 3000; // 24 MiB in all
      LoadFaultsTest.appendBatches(server, id, items / 20, pad);
      long grown = LoadFaultsTest.heapAfterGc() - before;
      long appended = (long) items * pad.length();
      System.out.printf("stalled SSE reader: heap grew %,d bytes for %,d appended%n", grown,
          appended);
      assertTrue(grown < appended / 2, "heap grew " + grown + " bytes while " + appended
          + " bytes waited for a stalled SSE reader");

      // Released, the same connection (kept open: no max duration, no idle timeout within the
      // test) delivers everything. Items count once their control event has arrived.
      List<Integer> committed = new ArrayList<>();
      List<Integer> pending = new ArrayList<>();
      long released = System.nanoTime();
      try (SseConnection reader = stalled) {
        while (committed.size() < items) {
          SseEvent e = reader.next();
          assertTrue(e != null, "the stalled connection ended after " + committed.size()
              + " of " + items + " events");
          if (e.type().equals("data")) {
            pending.addAll(numbers(e));
          } else if (e.type().equals("control")) {
            assertTrue(NEXT_OFFSET.matcher(e.data()).find(), "a control event without"
                + " streamNextOffset: " + e.data());
            committed.addAll(pending);
            pending.clear();
          }
        }
      }
      System.out.printf("stalled SSE reader: caught up in %d ms%n",
          Duration.ofNanos(System.nanoTime() - released).toMillis());
      assertEquals(IntStream.range(0, items).boxed().toList(), committed,
          "in order, no gap, no duplicate");
    }
  }

  private static List<Integer> numbers(SseEvent e) {
    List<Integer> out = new ArrayList<>();
    if (e.type().equals("data")) {
      Matcher m = N.matcher(e.data());
      while (m.find()) {
        out.add(Integer.parseInt(m.group(1)));
      }
    }
    return out;
  }

  /** One dispatched SSE event: its type and its data lines joined with newlines. */
  record SseEvent(String type, String data) {}

  /**
   * An SSE read over a raw socket with a small receive buffer, so that not reading really
   * stops the server's writes. It decodes HTTP/1.1 chunked transfer coding and SSE framing
   * itself; comments (keep-alives) are skipped.
   */
  static final class SseConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream body;

    private SseConnection(Socket socket, InputStream body) {
      this.socket = socket;
      this.body = body;
    }

    static SseConnection open(int port, String stream, String offset) throws IOException {
      Socket socket = new Socket();
      socket.setReceiveBufferSize(4096);
      socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET /v1/stream/" + stream + "?offset=" + offset + "&live=sse HTTP/1.1\r\n"
          + "Host: 127.0.0.1:" + port + "\r\nAccept: text/event-stream\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String status = line(in);
      assertTrue(status.startsWith("HTTP/1.1 200"), "SSE read answered " + status);
      boolean chunked = false;
      for (String header = line(in); !header.isEmpty(); header = line(in)) {
        String h = header.toLowerCase(Locale.ROOT);
        if (h.startsWith("transfer-encoding:") && h.contains("chunked")) {
          chunked = true;
        }
      }
      return new SseConnection(socket, chunked ? new Chunked(in) : in);
    }

    /** The next event, or null once the connection has ended (cleanly or not). */
    SseEvent next() {
      String type = "message";
      StringBuilder data = null;
      try {
        while (true) {
          String line = line(body);
          if (line == null) {
            return null;
          }
          if (line.isEmpty()) {
            if (data != null) {
              return new SseEvent(type, data.toString());
            }
            type = "message";
            continue;
          }
          if (line.startsWith(":")) {
            continue;
          }
          int colon = line.indexOf(':');
          String field = colon < 0 ? line : line.substring(0, colon);
          String value = colon < 0 ? "" : line.substring(colon + 1);
          if (value.startsWith(" ")) {
            value = value.substring(1);
          }
          if (field.equals("event")) {
            type = value;
          } else if (field.equals("data")) {
            data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
          }
        }
      } catch (IOException ended) {
        return null;
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }

    /** A line without its LF (and CR); null at the end of input. */
    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        bytes.write(b);
      }
      if (b < 0 && bytes.size() == 0) {
        return null;
      }
      if (b < 0) {
        throw new IOException("the connection ended inside a line");
      }
      String s = bytes.toString(StandardCharsets.UTF_8);
      return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
  }

  /** HTTP/1.1 chunked transfer decoding; the end of input after the last chunk. */
  private static final class Chunked extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    Chunked(InputStream in) {
      this.in = new java.io.BufferedInputStream(in, 8192);
    }

    @Override
    public int read() throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        String size = SseConnection.line(in);
        if (size == null) {
          done = true;
          return -1;
        }
        if (size.isEmpty()) {
          size = SseConnection.line(in);
          if (size == null) {
            done = true;
            return -1;
          }
        }
        left = Long.parseLong(size.split(";")[0].trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int b = in.read();
      if (b < 0) {
        done = true;
        return -1;
      }
      left--;
      return b;
    }
  }
}
