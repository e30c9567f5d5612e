package io.tether.http.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the conformance suite leaves open, over real HTTP: body limits answer 413 with a problem
 * body, a catch-up longer than the in-memory tail is read back from the journal page by page,
 * and a sub-offset fork materializes a prefix of an item that only the journal still holds.
 */
class DurableStreamsLimitsTest {
  private static final AtomicInteger ids = new AtomicInteger();
  private static StreamsTestServer server;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = StreamsTestServer.start("limits", ConfigFactory.parseString("""
        tether.streams.max-append-bytes = 1 KiB
        tether.session.tail-max-batches = 2
        tether.session.max-read-bytes = 8
        """).withFallback(StreamsTestServer.inMemory()));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String url(String id) {
    return server.baseUrl() + "/v1/stream/" + id;
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder put(String id, String body) {
    return HttpRequest.newBuilder(URI.create(url(id))).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString(body));
  }

  private static HttpRequest.Builder post(String id, String body) {
    return HttpRequest.newBuilder(URI.create(url(id))).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void bodiesOverTheLimitAreRejectedWith413AndAProblemBody() throws Exception {
    String id = "limit-" + ids.incrementAndGet();
    assertEquals(201, send(put(id, "")).statusCode());
    HttpResponse<String> tooLarge = send(post(id, "x".repeat(2048)));
    assertEquals(413, tooLarge.statusCode());
    assertTrue(tooLarge.headers().firstValue("Content-Type").orElse("")
        .startsWith("application/problem+json"));
    assertEquals(204, send(post(id, "x".repeat(512))).statusCode());
  }

  @Test
  void catchUpOlderThanTheTailIsReadFromTheJournalPageByPage() throws Exception {
    String id = "pages-" + ids.incrementAndGet();
    assertEquals(201, send(put(id, "a0")).statusCode());
    for (int i = 1; i < 10; i++) {
      assertEquals(204, send(post(id, "a" + i)).statusCode());
    }
    StringBuilder all = new StringBuilder();
    String offset = "-1";
    for (int page = 0; page < 20; page++) {
      HttpResponse<String> read = send(HttpRequest.newBuilder(
          URI.create(url(id) + "?offset=" + offset)).GET());
      assertEquals(200, read.statusCode());
      all.append(read.body());
      offset = read.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (read.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        break;
      }
    }
    assertEquals("a0a1a2a3a4a5a6a7a8a9", all.toString());
  }

  @Test
  void subOffsetForkMaterializesAPrefixHeldOnlyByTheJournal() throws Exception {
    String source = "fork-src-" + ids.incrementAndGet();
    HttpResponse<String> created = send(put(source, "first"));
    String anchor = created.headers().firstValue("Stream-Next-Offset").orElseThrow();
    for (String part : new String[] {"second", "third", "fourth"}) {
      assertEquals(204, send(post(source, part)).statusCode());
    }
    String fork = source + "-fork";
    HttpResponse<String> forked = send(HttpRequest.newBuilder(URI.create(url(fork)))
        .header("Stream-Forked-From", "/v1/stream/" + source)
        .header("Stream-Fork-Offset", anchor)
        .header("Stream-Fork-Sub-Offset", "3")
        .PUT(HttpRequest.BodyPublishers.noBody()));
    assertEquals(201, forked.statusCode());
    StringBuilder all = new StringBuilder();
    String offset = "-1";
    for (int page = 0; page < 20; page++) {
      HttpResponse<String> read = send(HttpRequest.newBuilder(
          URI.create(url(fork) + "?offset=" + offset)).GET());
      all.append(read.body());
      offset = read.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (read.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        break;
      }
    }
    assertEquals("firstsec", all.toString());
  }
}
