package io.tether.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tether.http.streams.DurableStreamsRoutes;
import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long-polls on a healthy session while another cluster member is unreachable, through the
 * node's real wiring of {@link FailFast} and the Durable Streams routes, on the real Cassandra:
 * the session answers "nothing new" (204) before the guard's failover bound, so only a session
 * that does not answer at all (the one moving off the lost node, {@link FailFastTest}) gets a
 * 503. Before, the long-poll waited its full timeout and every one on the node got the 503.
 */
class FailFastLongPollTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final AtomicBoolean reachable = new AtomicBoolean(true);
  private static ActorSystem<Void> system;
  private static ServerBinding binding;
  private static FailFast failFast;

  @BeforeAll
  static void start() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "failfast-poll", ConfigFactory.parseString("""
            tether.http.failover.ask-timeout = 1s
            tether.http.failover.check-interval = 1h
            tether.http.failover.settle-time = 500ms
            tether.streams.long-poll-timeout = 3s
            tether.session.read-journal-plugin-id = "pekko.persistence.cassandra.query"
            """).withFallback(TestNodeConfig.base())
        .withFallback(TestCassandra.get().configFor("FailFastLongPollTest"))
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.parseResources("tether-http.conf"))
        .withFallback(ConfigFactory.load()).resolve());
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    failFast = new FailFast(system, reachable::get);
    binding = HttpServer.start(system, ProblemHandlers.wrap(failFast.guard(
            new DurableStreamsRoutes(system, TestNodeConfig.streams(system), failFast::longPollWait)
                .route())),
        "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI stream(String query) {
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort()
        + "/v1/stream/healthy" + query);
  }

  @Test
  void aLongPollOnALiveSessionAnswersNothingNewDuringAFailoverNot503() throws Exception {
    assertEquals(201, send(HttpRequest.newBuilder(stream("")).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.noBody())).statusCode());
    HttpResponse<String> appended = send(HttpRequest.newBuilder(stream(""))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("a")));
    assertEquals(204, appended.statusCode(), appended.body());
    String tail = appended.headers().firstValue("Stream-Next-Offset").orElseThrow();

    reachable.set(false);
    failFast.changed(false);
    long sent = System.nanoTime();
    HttpResponse<String> poll = send(HttpRequest.newBuilder(
        stream("?offset=" + tail + "&live=long-poll")));
    long pollMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertEquals(204, poll.statusCode(), "a live session answers nothing new: " + poll.body());
    assertEquals(tail, poll.headers().firstValue("Stream-Next-Offset").orElse(""));
    assertTrue(pollMillis >= 400 && pollMillis < 1000,
        "it waited half the failover bound, not the 3 s long-poll timeout: " + pollMillis + " ms");
    // New data during the failover still reaches a waiting long-poll at once.
    var waiting = HTTP.sendAsync(HttpRequest.newBuilder(stream("?offset=" + tail + "&live=long-poll"))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(204, send(HttpRequest.newBuilder(stream("")).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("b"))).statusCode());
    HttpResponse<String> delivered = waiting.get(5, TimeUnit.SECONDS);
    assertEquals(200, delivered.statusCode(), delivered.body());
    assertEquals("b", delivered.body());

    reachable.set(true);
    failFast.changed(true);
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!failFast.settled()) {
      assertTrue(System.nanoTime() < settle, "never settled");
      TimeUnit.MILLISECONDS.sleep(10);
    }
    String next = delivered.headers().firstValue("Stream-Next-Offset").orElseThrow();
    sent = System.nanoTime();
    HttpResponse<String> settled = send(HttpRequest.newBuilder(
        stream("?offset=" + next + "&live=long-poll")));
    long settledMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertEquals(204, settled.statusCode(), settled.body());
    assertTrue(settledMillis >= 2500, "once settled, a long-poll waits its full timeout: "
        + settledMillis + " ms");
  }
}
