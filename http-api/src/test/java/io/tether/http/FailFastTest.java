package io.tether.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tether.http.streams.DurableStreamsRoutes;
import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FailFast} over a real HTTP server: a route that never answers stands for a request
 * routed to a crashed node's shard. While every member is reachable such a request waits (up to
 * the server's request timeout, 60 s here); when a member becomes unreachable, one already in
 * flight is answered 503 + Retry-After within the failover timeout of its start, a waiting
 * long-poll at once, and a new one within the failover timeout, also for the settle time after
 * every member is reachable again; a request that does get its answer is not affected. (The JDK client offers every request an {@code Upgrade: h2c}: only a
 * WebSocket upgrade is left alone; a first version skipped every request with an Upgrade header
 * and so guarded none of the JDK client's.)
 *
 * <p>The same server also wires the Durable Streams routes as a node does, on the real
 * Cassandra: a long-poll on a live session answers "nothing new" (204) before the failover
 * bound, so only a session that does not answer at all gets the 503.
 */
class FailFastTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final AtomicBoolean reachable = new AtomicBoolean(true);
  private static ActorSystem<Void> system;
  private static ServerBinding binding;
  private static FailFast failFast;

  @BeforeAll
  static void start() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "failfast", ConfigFactory.parseString("""
            tether.http.failover.ask-timeout = 1s
            tether.http.failover.check-interval = 1h
            tether.http.failover.settle-time = 1500ms
            tether.streams.long-poll-timeout = 3s
            tether.session.read-journal-plugin-id = "pekko.persistence.cassandra.query"
            """).withFallback(TestNodeConfig.base())
        .withFallback(TestCassandra.get().configFor("FailFastTest"))
        .withFallback(ConfigFactory.parseResources("tether-persistence.conf"))
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.parseResources("tether-http.conf"))
        .withFallback(ConfigFactory.load()).resolve());
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    failFast = new FailFast(system, reachable::get);
    binding = HttpServer.start(system, failFast.guard(concat(
            path("hang", () -> completeWithFuture(new CompletableFuture<HttpResponse>())),
            path("fine", () -> complete(StatusCodes.OK, "fine")),
            new DurableStreamsRoutes(system, TestNodeConfig.streams(system), failFast::longPollWait)
                .route())),
        "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Every test starts with every member reachable and the settle time over. */
  @BeforeEach
  void allReachable() throws Exception {
    reachable.set(true);
    failFast.changed(true);
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!failFast.settled()) {
      assertTrue(System.nanoTime() < settle, "never settled");
      TimeUnit.MILLISECONDS.sleep(10);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    // The /hang route never answers: its connections are closed now, not after the shutdown's
    // HTTP phase has waited for them (5 s).
    binding.terminate(Duration.ofMillis(100)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
  }

  private static CompletableFuture<java.net.http.HttpResponse<String>> get(String pathAndQuery) {
    return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + binding.localAddress().getPort() + pathAndQuery)).timeout(Duration.ofSeconds(30)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestsWaitingForAnUnreachableMembersShardAnswer503Soon() throws Exception {
    long start = System.nanoTime();
    CompletableFuture<java.net.http.HttpResponse<String>> plain = get("/hang");
    CompletableFuture<java.net.http.HttpResponse<String>> longPoll = get("/hang?offset=0&live=long-poll");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (failFast.inFlight() < 2) {
      assertTrue(System.nanoTime() < deadline, "the requests never reached the route");
      TimeUnit.MILLISECONDS.sleep(10);
    }
    assertTrue(!plain.isDone() && !longPoll.isDone(), "nothing answers while all are reachable");

    reachable.set(false);
    failFast.changed(false);
    java.net.http.HttpResponse<String> poll = longPoll.get(5, TimeUnit.SECONDS);
    long pollMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertUnavailable(poll);
    java.net.http.HttpResponse<String> held = plain.get(5, TimeUnit.SECONDS);
    long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertUnavailable(held);
    assertTrue(pollMillis < 1000, "the waiting long-poll is answered at once: " + pollMillis + " ms");
    assertTrue(heldMillis >= 900 && heldMillis < 3000,
        "the held request is answered 1 s after its start: " + heldMillis + " ms");

    long arrived = System.nanoTime();
    java.net.http.HttpResponse<String> fresh = get("/hang").get(5, TimeUnit.SECONDS);
    long freshMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - arrived);
    assertUnavailable(fresh);
    assertTrue(freshMillis >= 900 && freshMillis < 3000, "a new request gets 1 s: " + freshMillis + " ms");
    assertEquals(200, get("/fine").get(5, TimeUnit.SECONDS).statusCode(), "answered requests are untouched");
    assertEquals(0, failFast.inFlight(), "answered requests are not remembered");

    reachable.set(true);
    failFast.changed(true);
    assertUnavailable(get("/hang").get(5, TimeUnit.SECONDS)); // still bounded: within settle-time
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!failFast.settled()) {
      assertTrue(System.nanoTime() < settle, "never settled");
      TimeUnit.MILLISECONDS.sleep(10);
    }
    CompletableFuture<java.net.http.HttpResponse<String>> again = get("/hang");
    TimeUnit.MILLISECONDS.sleep(1500);
    assertTrue(!again.isDone(), "once all are reachable, requests wait for their entity again");
    again.cancel(true);
    assertEquals(404, get("/elsewhere").get(5, TimeUnit.SECONDS).statusCode());
    assertEquals(1, failFast.inFlight(), "a request no guarded route takes is not remembered");
  }

  private static java.net.http.HttpResponse<String> send(HttpRequest.Builder request)
      throws Exception {
    return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  private static URI stream(String query) {
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort()
        + "/v1/stream/healthy" + query);
  }

  @Test
  void aLongPollOnALiveSessionAnswersNothingNewDuringAFailoverNot503() throws Exception {
    assertEquals(201, send(HttpRequest.newBuilder(stream("")).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.noBody())).statusCode());
    java.net.http.HttpResponse<String> appended = send(HttpRequest.newBuilder(stream(""))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("a")));
    assertEquals(204, appended.statusCode(), appended.body());
    String tail = appended.headers().firstValue("Stream-Next-Offset").orElseThrow();

    reachable.set(false);
    failFast.changed(false);
    long sent = System.nanoTime();
    java.net.http.HttpResponse<String> poll = send(HttpRequest.newBuilder(
        stream("?offset=" + tail + "&live=long-poll")));
    long pollMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertEquals(204, poll.statusCode(), "a live session answers nothing new: " + poll.body());
    assertEquals(tail, poll.headers().firstValue("Stream-Next-Offset").orElse(""));
    assertTrue(pollMillis >= 400 && pollMillis < 1000,
        "it waited half the failover bound, not the 3 s long-poll timeout: " + pollMillis + " ms");
    // New data during the failover still reaches a waiting long-poll at once.
    var waiting = HTTP.sendAsync(HttpRequest.newBuilder(stream("?offset=" + tail + "&live=long-poll"))
        .timeout(Duration.ofSeconds(30)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(204, send(HttpRequest.newBuilder(stream("")).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("b"))).statusCode());
    java.net.http.HttpResponse<String> delivered = waiting.get(5, TimeUnit.SECONDS);
    assertEquals(200, delivered.statusCode(), delivered.body());
    assertEquals("b", delivered.body());

    allReachable();
    String next = delivered.headers().firstValue("Stream-Next-Offset").orElseThrow();
    sent = System.nanoTime();
    java.net.http.HttpResponse<String> settled = send(HttpRequest.newBuilder(
        stream("?offset=" + next + "&live=long-poll")));
    long settledMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertEquals(204, settled.statusCode(), settled.body());
    assertTrue(settledMillis >= 2500, "once settled, a long-poll waits its full timeout: "
        + settledMillis + " ms");
  }

  private static void assertUnavailable(java.net.http.HttpResponse<String> response) {
    assertEquals(503, response.statusCode(), response.body());
    assertEquals("1", response.headers().firstValue("Retry-After").orElse(""));
    assertTrue(response.body().contains("unreachable"), response.body());
  }
}
