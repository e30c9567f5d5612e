package io.tether.http.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import io.tether.persistence.testkit.TestCassandra;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A deleted or expired stream's data is gone from Cassandra, not only hidden: after a DELETE, and
 * after a Stream-TTL runs out with nobody reading, the journal's {@code messages} table holds no
 * row of the stream and the snapshot table none either (the physical purge of
 * {@code tether.session.purge-on-delete}). Read with the driver, on the real local Cassandra.
 */
class StreamPurgeTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static StreamsTestServer server;
  private static CqlSession cql;
  private static String keyspace;

  @BeforeAll
  static void start() throws Exception {
    Config persistence = StreamsTestServer.cassandra("StreamPurgeTest").withFallback(
        com.typesafe.config.ConfigFactory.parseString("""
            tether.session.snapshot-every = 3
            tether.session.expiry-check-interval = 200ms
            """));
    keyspace = persistence.getString("pekko.persistence.cassandra.journal.keyspace");
    server = StreamsTestServer.start("StreamPurgeTest", persistence);
    String[] hostPort = TestCassandra.get().contactPoint().split(":");
    cql = CqlSession.builder()
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1").build();
  }

  @AfterAll
  static void stop() throws Exception {
    cql.close();
    server.close();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI url(String id) {
    return URI.create(server.baseUrl() + "/v1/stream/" + id);
  }

  private static long rows(String table, String persistenceId) {
    return cql.execute("SELECT count(*) FROM " + keyspace + "." + table
        + " WHERE persistence_id = ? ALLOW FILTERING", persistenceId).one().getLong(0);
  }

  private static String writeTenEvents(String id, String ttl) throws Exception {
    HttpRequest.Builder create = HttpRequest.newBuilder(url(id))
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.noBody());
    if (ttl != null) {
      create.header("Stream-TTL", ttl);
    }
    assertEquals(201, send(create).statusCode());
    for (int i = 0; i < 10; i++) {
      assertEquals(204, send(HttpRequest.newBuilder(url(id)).header("Content-Type", "text/plain")
          .POST(HttpRequest.BodyPublishers.ofString("item " + i))).statusCode());
    }
    String pid = "Session|" + id;
    assertTrue(rows("messages", pid) >= 10, "the events are in the journal first");
    assertTrue(rows("snapshots", pid) >= 1, "and a snapshot (every 3 events)");
    return pid;
  }

  @Test
  void aDeletedStreamsEventsAndSnapshotsLeaveCassandra() throws Exception {
    String pid = writeTenEvents("purge-deleted", null);
    assertEquals(204, send(HttpRequest.newBuilder(url("purge-deleted")).DELETE()).statusCode());
    TestProbe<Void> probe = TestProbe.create(server.system);
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      // The deletion event itself stays (it is the new incarnation's horizon); every data
      // event before it and every snapshot is gone.
      assertTrue(rows("messages", pid) <= 1, "rows left: " + rows("messages", pid));
      assertEquals(0, rows("snapshots", pid));
      return null;
    });
    assertEquals(404, send(HttpRequest.newBuilder(URI.create(url("purge-deleted") + "?offset=-1")))
        .statusCode());
  }

  @Test
  void anExpiredStreamIsPurgedWithoutAnyRequest() throws Exception {
    String pid = writeTenEvents("purge-expired", "1");
    TestProbe<Void> probe = TestProbe.create(server.system);
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(rows("messages", pid) <= 1, "rows left: " + rows("messages", pid));
      assertEquals(0, rows("snapshots", pid));
      return null;
    });
  }
}
