package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.Payloads;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.ErrorTally;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.measure.RateTimeline;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The writer of one token stream, shaped like a model client: tokens arrive at the model's
 * pace; while one append is in flight new tokens queue, and the next append carries all of
 * them as one JSON array (one request, several messages). Each token keeps the time it was
 * produced, so delivery latency includes any time it waited here.
 */
final class TokenProducer {
  private static final int MAX_BATCH = 1000;

  private final StreamClient client;
  private final String stream;
  private final int index;
  private final RateTimeline ackedTimeline;
  private final Histogram ackLatency;
  private final LongAdder acked;
  private final LongAdder requests;
  private final ErrorTally errors;
  private final ArrayDeque<String> queue = new ArrayDeque<>();
  private boolean inFlight;
  private long seq;

  TokenProducer(StreamClient client, String stream, int index, RateTimeline ackedTimeline,
      Histogram ackLatency, LongAdder acked, LongAdder requests, ErrorTally errors) {
    this.client = client;
    this.stream = stream;
    this.index = index;
    this.ackedTimeline = ackedTimeline;
    this.ackLatency = ackLatency;
    this.acked = acked;
    this.requests = requests;
    this.errors = errors;
  }

  /** One token, produced now. */
  synchronized void produce() {
    queue.add(Payloads.tokenDelta(index, seq++, System.nanoTime()));
    if (!inFlight) {
      sendQueued();
    }
  }

  /** Whether nothing is queued or in flight. */
  synchronized boolean idle() {
    return !inFlight && queue.isEmpty();
  }

  private void sendQueued() {
    List<String> batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
    while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(queue.poll());
    }
    inFlight = true;
    long sent = System.nanoTime();
    requests.increment();
    client.append(stream, StreamClient.JSON, Payloads.jsonArray(batch)).whenComplete((w, e) -> {
      long now = System.nanoTime();
      if (e == null && w.ok()) {
        acked.add(batch.size());
        ackedTimeline.add(now, batch.size());
        Latencies.record(ackLatency, sent, now);
      } else if (e == null) {
        errors.answered(w.failure());
      } else {
        errors.failure(e);
      }
      synchronized (this) {
        inFlight = false;
        if (!queue.isEmpty()) {
          sendQueued();
        }
      }
    });
  }
}
