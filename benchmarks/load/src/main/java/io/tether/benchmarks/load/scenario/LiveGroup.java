package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.LiveMode;
import io.tether.benchmarks.load.client.LiveSubscriber;
import io.tether.benchmarks.load.client.WsSubscriber;
import io.tether.benchmarks.load.measure.DeliverySink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A set of live readers opened together: attached with a bounded number of connection attempts
 * in flight (a burst of thousands of connects would measure the accept queue, not the server),
 * awaited until ready, and stopped together.
 */
final class LiveGroup {
  private final List<LiveSubscriber> subscribers = new ArrayList<>();
  private int attached;
  private int failedToAttach;
  private double attachSeconds;

  /**
   * Opens {@code count} readers of the streams {@code streamOf} names, in {@code mode} (as this
   * target serves it, see {@link ScenarioContext#live}); waits up to {@code timeoutSeconds}.
   */
  static LiveGroup open(ScenarioContext ctx, LiveMode mode, int count, int concurrency,
      int timeoutSeconds, IntFunction<String> streamOf, DeliverySink sink)
      throws InterruptedException {
    LiveMode used = ctx.live(mode);
    LiveGroup group = new LiveGroup();
    Semaphore connecting = new Semaphore(concurrency);
    long began = System.nanoTime();
    long deadline = began + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    for (int i = 0; i < count; i++) {
      if (!connecting.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        break;
      }
      LiveSubscriber s = used.subscriber(ctx.liveClient(i), ctx.client(),
          streamOf.apply(i), "now", sink);
      group.subscribers.add(s);
      s.ready().whenComplete((v, e) -> connecting.release());
      s.start();
    }
    for (LiveSubscriber s : group.subscribers) {
      try {
        s.ready().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (!s.finished().isDone()) {
          group.attached++;
        } else {
          group.failedToAttach++;
        }
      } catch (Exception e) {
        group.failedToAttach++;
      }
    }
    group.failedToAttach += count - group.subscribers.size();
    group.attachSeconds = (System.nanoTime() - began) / 1e9;
    return group;
  }

  /** For a title: with ws, that a target without the session WebSocket uses SSE; else "". */
  static String fallback(String live) {
    return LiveMode.parse(live) == LiveMode.WS
        ? "; sse on a target without the session WebSocket" : "";
  }

  int attached() {
    return attached;
  }

  int failedToAttach() {
    return failedToAttach;
  }

  double attachSeconds() {
    return attachSeconds;
  }

  /** Failed requests and reconnects across all readers. */
  int failures() {
    return subscribers.stream().mapToInt(LiveSubscriber::failures).sum();
  }

  long sequenceAnomalies() {
    return subscribers.stream().mapToLong(LiveSubscriber::sequenceAnomalies).sum();
  }

  int reconnects() {
    return subscribers.stream().mapToInt(LiveSubscriber::reconnects).sum();
  }

  /** Readers that have stopped for good (gave up, or the server ended the stream). */
  long finished() {
    return subscribers.stream().filter(s -> s.finished().isDone()).count();
  }

  /** WebSocket error frames received, summed (zero for the HTTP modes). */
  long errorFrames() {
    return subscribers.stream().filter(s -> s instanceof WsSubscriber)
        .mapToLong(s -> ((WsSubscriber) s).errorFrames()).sum();
  }

  /** WebSocket event frames without a send time (events the session wrote: presence). */
  long eventsWithoutTimestamp() {
    return subscribers.stream().filter(s -> s instanceof WsSubscriber)
        .mapToLong(s -> ((WsSubscriber) s).eventsWithoutTimestamp()).sum();
  }

  /** The last failure some reader saw, or "none". */
  String lastFailure() {
    return subscribers.stream().filter(s -> s instanceof WsSubscriber)
        .map(s -> ((WsSubscriber) s).lastError()).filter(e -> !e.equals("none"))
        .reduce((a, b) -> b).orElse("none");
  }

  /** Stops every reader, waits up to {@code seconds} for them; returns how many did not finish. */
  long stop(int seconds) {
    subscribers.forEach(LiveSubscriber::stop);
    try {
      CompletableFuture.allOf(subscribers.stream().map(LiveSubscriber::finished)
          .toArray(CompletableFuture[]::new)).get(seconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Long-poll readers end with the server's poll timeout; they are daemon work by now.
    }
    return subscribers.stream().filter(s -> !s.finished().isDone()).count();
  }
}
