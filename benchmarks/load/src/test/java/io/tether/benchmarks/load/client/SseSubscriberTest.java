package io.tether.benchmarks.load.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import io.tether.benchmarks.load.measure.DeliverySink;
import io.tether.benchmarks.load.measure.RateTimeline;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a real socket: an SSE server that batches messages and ends its response once. */
class SseSubscriberTest {
  private HttpServer server;
  private final List<String> offsetsRequested = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/stream/s", exchange -> {
      String query = exchange.getRequestURI().getQuery();
      offsetsRequested.add(query);
      String body = query.contains("offset=now")
          ? "event: data\ndata: [\ndata: {\"t\":1},\ndata: {\"t\":2}\ndata: ]\n\n"
              + "event: control\ndata: {\"streamNextOffset\":\"0005\",\"upToDate\":true}\n\n"
          : "event: data\ndata: [{\"t\":3}]\n\n"
              + "event: control\n"
              + "data: {\"streamNextOffset\": \"0006\", \"streamClosed\": true}\n\n";
      exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
      exchange.sendResponseHeaders(200, 0);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body.getBytes(StandardCharsets.UTF_8));
      }
    });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  @Test
  void deliversEveryMessageOfABatchedEventAndResumesFromTheLastControlOffset() throws Exception {
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    StreamClient client = new StreamClient(HttpClients.newClient("test"), url, "/v1/stream/",
        Duration.ofSeconds(5));
    DeliverySink sink = new DeliverySink(new RateTimeline(1));
    LiveSubscriber reader = LiveMode.SSE.subscriber(client.http(), client, "s", "now", sink);

    reader.start();
    reader.finished().get(10, TimeUnit.SECONDS);

    assertEquals(3, sink.delivered());
    assertEquals(List.of("offset=now&live=sse", "offset=0005&live=sse"), offsetsRequested);
    assertEquals(0, reader.failures());
  }
}
