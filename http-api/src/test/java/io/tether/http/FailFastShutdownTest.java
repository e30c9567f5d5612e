package io.tether.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * A node that starts to stop answers its waiting long-polls 503 with {@code Retry-After} at once,
 * so their clients re-poll another node from their offsets, and its shutdown does not wait for
 * them. Before, a waiting long-poll (up to {@code tether.streams.long-poll-timeout}, 20 s) held
 * the shutdown's {@code service-requests-done} phase until that phase timed out (5 s), and was
 * then cut off with its connection.
 */
class FailFastShutdownTest {
  /** Far below the 5 s that a held long-poll kept the shutdown's HTTP phase waiting. */
  private static final long STOPS_WITHIN_MILLIS = 3_000;

  @Test
  void aStoppingNodeAnswersItsWaitingLongPollsAndDoesNotWaitForThem() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "failfast-shutdown",
        ConfigFactory.parseString("tether.http.unbind-deadline = 30s")
            .withFallback(ConfigFactory.parseResources("tether-http.conf"))
            .withFallback(ConfigFactory.load()).resolve());
    FailFast failFast = new FailFast(system, () -> true);
    // A long-poll whose data never comes within the test, and which nothing else answers.
    ServerBinding binding = HttpServer.start(system, failFast.guard(
            path("wait", () -> completeWithFuture(new CompletableFuture<HttpResponse>()))),
        "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
    CompletableFuture<java.net.http.HttpResponse<String>> longPoll = HttpClient.newHttpClient()
        .sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + binding.localAddress().getPort() + "/wait?offset=0&live=long-poll"))
                .timeout(Duration.ofSeconds(30)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (failFast.inFlight() < 1) {
      assertTrue(System.nanoTime() < deadline, "the long-poll never reached the route");
      TimeUnit.MILLISECONDS.sleep(10);
    }

    long began = System.nanoTime();
    CoordinatedShutdown.get(system).run(CoordinatedShutdown.unknownReason());
    java.net.http.HttpResponse<String> answer = longPoll.get(10, TimeUnit.SECONDS);
    long answeredMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    assertEquals(503, answer.statusCode(), answer.body());
    assertEquals("1", answer.headers().firstValue("Retry-After").orElse(""));
    assertTrue(answer.body().contains("stopping"), answer.body());
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    long stoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    assertTrue(answeredMillis < 1_000, "the long-poll was answered " + answeredMillis
        + " ms into the shutdown");
    assertTrue(stoppedMillis < STOPS_WITHIN_MILLIS, "the node stopped " + stoppedMillis
        + " ms after its shutdown began");
  }
}
