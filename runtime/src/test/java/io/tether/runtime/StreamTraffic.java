package io.tether.runtime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Real client traffic against a cluster: one idempotent producer per stream appending numbered
 * lines, and live long-poll readers, each of which fails over to another node when its node
 * stops answering and resumes from the last offset it received. Nothing here knows which node
 * holds which stream.
 */
final class StreamTraffic {
  private StreamTraffic() {}

  /** Appends {@code "<label>-<n>\n"} with Producer-Seq n, retrying the same seq on another node. */
  static final class Producer implements Runnable {
    final String stream;
    final String label;
    final List<Integer> acked = new CopyOnWriteArrayList<>();
    /** System.nanoTime() of each acknowledgement, parallel to {@link #acked}. */
    final List<Long> ackedAt = new CopyOnWriteArrayList<>();
    /** System.nanoTime() when the acknowledged attempt was sent, parallel to {@link #acked}. */
    final List<Long> sentAt = new CopyOnWriteArrayList<>();
    /**
     * System.nanoTime() when the first attempt of each acknowledged line was sent, parallel to
     * {@link #acked}: a line first sent before a kill may be stored (and delivered) by the killed
     * node even though a later attempt is the one acknowledged.
     */
    final List<Long> firstSentAt = new CopyOnWriteArrayList<>();
    private final Supplier<List<ClusterNode>> nodes;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicBoolean finish = new AtomicBoolean();
    private final AtomicLong retries = new AtomicLong();
    private final Duration interval;
    private volatile Throwable failure;
    private Thread thread;

    Producer(String stream, Supplier<List<ClusterNode>> nodes, Duration interval) {
      this(stream, stream, nodes, interval);
    }

    Producer(String stream, String label, Supplier<List<ClusterNode>> nodes, Duration interval) {
      this.stream = stream;
      this.label = label;
      this.nodes = nodes;
      this.interval = interval;
    }

    Producer start() {
      thread = new Thread(this, "producer-" + stream);
      thread.start();
      return this;
    }

    void stopAndJoin() throws InterruptedException {
      stop.set(true);
      thread.join(60_000);
    }

    /**
     * Stops after the append in flight is acknowledged (retrying it as long as needed), so that
     * what is stored is exactly what was acknowledged.
     */
    void finishAndJoin() throws InterruptedException {
      finish.set(true);
      thread.join(60_000);
    }

    long retries() {
      return retries.get();
    }

    /**
     * Nanoseconds from {@code mark} to the acknowledgement of the first append sent after it, or
     * null. An append sent before {@code mark} and answered after it does not count: its answer
     * may come from a node that was killed at {@code mark}, having written it just before.
     */
    Long firstAckSentAfter(long mark) {
      int n = Math.min(sentAt.size(), ackedAt.size());
      for (int i = 0; i < n; i++) {
        if (sentAt.get(i) > mark) {
          return ackedAt.get(i) - mark;
        }
      }
      return null;
    }

    /**
     * The first acknowledged line whose first attempt was sent after {@code mark}, or null: a line
     * no node can have stored, or delivered, before the mark.
     */
    Integer firstLineFirstSentAfter(long mark) {
      int n = Math.min(firstSentAt.size(), acked.size());
      for (int i = 0; i < n; i++) {
        if (firstSentAt.get(i) > mark) {
          return acked.get(i);
        }
      }
      return null;
    }

    int lastAcked() {
      return acked.isEmpty() ? -1 : acked.get(acked.size() - 1);
    }

    /** Why the producer stopped by itself (a refused append), or null. */
    Throwable failure() {
      return failure;
    }

    @Override
    public void run() {
      try {
        produce();
      } catch (RuntimeException e) {
        failure = e;
      }
    }

    private void produce() {
      int attempt = 0;
      long firstSent = 0;
      for (int n = 0; !stop.get() && !(finish.get() && attempt == 0); ) {
        List<ClusterNode> alive = nodes.get();
        ClusterNode node = alive.get((n + attempt) % alive.size());
        long sent = System.nanoTime();
        if (attempt == 0) {
          firstSent = sent;
        }
        try {
          HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(
                  URI.create(node.baseUrl() + "/v1/stream/" + stream))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "text/plain")
              .header("Producer-Id", label + "-producer")
              .header("Producer-Epoch", "0")
              .header("Producer-Seq", Integer.toString(n))
              .POST(HttpRequest.BodyPublishers.ofString(label + "-" + n + "\n", StandardCharsets.UTF_8))
              .build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200 || r.statusCode() == 204) {
            long now = System.nanoTime();
            firstSentAt.add(firstSent);
            sentAt.add(sent);
            ackedAt.add(now);
            acked.add(n);
            n++;
            attempt = 0;
            TimeUnit.MILLISECONDS.sleep(interval.toMillis());
            continue;
          }
          if (r.statusCode() < 500 && r.statusCode() != 429) {
            throw new IllegalStateException(stream + " append " + n + " refused: " + r.statusCode() + " " + r.body());
          }
        } catch (IOException unreachable) {
          // the node is gone or the entity is moving: retry the same seq on another node
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        retries.incrementAndGet();
        attempt++;
        try {
          TimeUnit.MILLISECONDS.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** Tails a stream with long-polls through a preferred node, failing over to the others. */
  static final class Reader implements Runnable {
    final String stream;
    private final StringBuilder content = new StringBuilder();
    /** (lines received so far, System.nanoTime()) after each response that carried data. */
    private final List<long[]> arrivals = new CopyOnWriteArrayList<>();
    private long lineCount;
    private final Supplier<List<ClusterNode>> nodes;
    private final int preferred;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Long> firstDataAfterMark = new AtomicReference<>();
    private volatile long markNanos = Long.MAX_VALUE;
    private volatile String offset = "-1";
    private volatile Throwable failure;
    private Thread thread;

    Reader(String stream, Supplier<List<ClusterNode>> nodes, int preferred) {
      this.stream = stream;
      this.nodes = nodes;
      this.preferred = preferred;
    }

    Reader start() {
      thread = new Thread(this, "reader-" + stream + "-" + preferred);
      thread.start();
      return this;
    }

    void stopAndJoin() throws InterruptedException {
      stop.set(true);
      thread.join(30_000);
    }

    /**
     * Stops without waiting for the long-poll in flight (interrupting it); call {@link #join}
     * after stopping every reader, so many readers stop in one long-poll's time, not one each.
     */
    void stopNow() {
      stop.set(true);
      thread.interrupt();
    }

    void join() throws InterruptedException {
      thread.join(30_000);
    }

    /** From now on, remember when the first data arrives (failover latency). */
    void mark(long nanos) {
      firstDataAfterMark.set(null);
      markNanos = nanos;
    }

    /** Nanoseconds from the mark to the first data received after it, or null. */
    Long firstDataAfterMark() {
      return firstDataAfterMark.get();
    }

    /** When line {@code index} (0-based) arrived, as System.nanoTime(), or null. */
    Long deliveredAt(int index) {
      for (long[] arrival : arrivals) {
        if (arrival[0] > index) {
          return arrival[1];
        }
      }
      return null;
    }

    synchronized List<String> lines() {
      List<String> lines = new ArrayList<>();
      for (String l : content.toString().split("\n")) {
        if (!l.isEmpty()) {
          lines.add(l);
        }
      }
      return lines;
    }

    Throwable failure() {
      return failure;
    }

    @Override
    public void run() {
      int attempt = 0;
      while (!stop.get()) {
        List<ClusterNode> alive = nodes.get();
        ClusterNode node = alive.get((preferred + attempt) % alive.size());
        try {
          HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create(
                  node.baseUrl() + "/v1/stream/" + stream + "?live=long-poll&offset=" + offset))
              .timeout(Duration.ofSeconds(15)).GET().build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200 || r.statusCode() == 204) {
            if (r.statusCode() == 200 && !r.body().isEmpty()) {
              long now = System.nanoTime();
              synchronized (this) {
                content.append(r.body());
                lineCount += r.body().chars().filter(c -> c == '\n').count();
                arrivals.add(new long[] {lineCount, now});
              }
              if (now > markNanos) {
                firstDataAfterMark.compareAndSet(null, now - markNanos);
              }
            }
            offset = r.headers().firstValue("Stream-Next-Offset").orElse(offset);
            continue;
          }
          if (r.statusCode() < 500) {
            failure = new IllegalStateException(stream + " read refused: " + r.statusCode() + " " + r.body());
            return;
          }
        } catch (IOException unreachable) {
          // fail over below
        } catch (InterruptedException e) {
          return;
        }
        attempt++;
        try {
          TimeUnit.MILLISECONDS.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
