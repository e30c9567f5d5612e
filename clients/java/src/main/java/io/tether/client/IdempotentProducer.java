package io.tether.client;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Appends events to a session exactly once over Durable Streams HTTP
 * ({@code POST /v1/stream/{id}}, JSON mode) with the idempotent producer headers
 * {@code Producer-Id}, {@code Producer-Epoch} and {@code Producer-Seq}.
 *
 * <p><b>Batching.</b> {@link #send} queues and returns at once. One request is in flight at a
 * time; whatever queues meanwhile leaves in the next request (up to {@code maxBatchEvents} /
 * {@code maxBatchBytes}), so a model streaming hundreds of tokens a second costs a few requests
 * a second and keeps its order. A batch holds the output of one run only: a cancelled run's
 * fence refuses a whole request, and must not take another run's events (or a
 * {@code control.*} event, which the session never fences) with it.
 *
 * <p><b>Retries.</b> A batch that fails in transit (connection refused or reset, timeout, 429,
 * 5xx) is sent again with the same sequence number, after {@code Retry-After} or a backoff with
 * jitter, until {@code deliveryTimeout}. The server answers a batch it already stored as a
 * duplicate ({@code 204}) instead of storing it twice, so a retry never duplicates. A batch
 * still unanswered at the deadline fails with {@code timeout} (it may or may not be stored) and
 * the producer moves to a new epoch, so nothing after it can be mistaken for a duplicate.
 *
 * <p><b>Refusals.</b> Output for a fenced run (cancelled or lost) fails with {@code fenced},
 * and so does everything queued for that run after it; other runs go on. A newer producer with
 * the same id and a higher epoch fences this one ({@code stale-epoch}: every send fails from
 * then on) unless {@code autoClaim} is set, which takes the next epoch instead.
 *
 * <p>Each event gets {@code producer} (the {@code device}) and {@code time} when it has none.
 */
public final class IdempotentProducer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(IdempotentProducer.class.getName());

  /**
   * An event is durable.
   *
   * @param offset the offset after the request that stored it ({@code Stream-Next-Offset}); for
   *     a duplicate, the tail when the retry was answered
   * @param duplicate whether the server had already stored it (a retry of a lost answer)
   */
  public record Appended(String offset, boolean duplicate) {}

  /** Configures a producer; {@link #open()} makes it. */
  public static final class Builder {
    private final TetherClient client;
    private final String sessionId;
    private String producerId;
    private String device;
    private long epoch;
    private boolean autoClaim;
    private int maxBatchEvents = 1000;
    private int maxBatchBytes = 512 * 1024;
    private Duration deliveryTimeout = Duration.ofMinutes(2);
    private Duration closeTimeout = Duration.ofSeconds(10);
    private Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

    Builder(TetherClient client, String sessionId) {
      this.client = client;
      this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
    }

    /**
     * The producer id: the unit of deduplication. By default a fresh random one, so a restarted
     * process never collides with its predecessor. A stable id across restarts needs a higher
     * {@link #epoch} each time (or {@link #autoClaim}).
     */
    public Builder producerId(String id) {
      this.producerId = Objects.requireNonNull(id, "id");
      return this;
    }

    /** The envelope {@code producer} of events that have none (the agent's device). */
    public Builder device(String device) {
      this.device = device;
      return this;
    }

    /** The starting epoch; 0. */
    public Builder epoch(long epoch) {
      if (epoch < 0) {
        throw new IllegalArgumentException("epoch >= 0");
      }
      this.epoch = epoch;
      return this;
    }

    /** On {@code 403} (a newer epoch exists), take the next epoch instead of failing. */
    public Builder autoClaim(boolean autoClaim) {
      this.autoClaim = autoClaim;
      return this;
    }

    /** At most this many events per request; 1000. */
    public Builder maxBatchEvents(int events) {
      this.maxBatchEvents = Math.max(1, events);
      return this;
    }

    /** At most about this many bytes per request (one event may exceed it); 512 KiB. */
    public Builder maxBatchBytes(int bytes) {
      this.maxBatchBytes = Math.max(1, bytes);
      return this;
    }

    /** How long a batch is retried before it fails with {@code timeout}; 2 minutes. */
    public Builder deliveryTimeout(Duration timeout) {
      this.deliveryTimeout = timeout;
      return this;
    }

    /** How long {@link IdempotentProducer#close()} waits for what is queued; 10 s. */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = timeout;
      return this;
    }

    /** The wait between retries when the server gives no {@code Retry-After}. */
    public Builder backoff(Backoff backoff) {
      this.backoff = backoff;
      return this;
    }

    /** The producer. */
    public IdempotentProducer open() {
      IdempotentProducer p = new IdempotentProducer(this);
      client.track(p);
      return p;
    }
  }

  /**
   * A queued event. {@code fenceKey} is the run whose fence can refuse it: its run, or null for
   * events no fence refuses ({@code control.*}, events of no run).
   */
  private record Item(byte[] json, String fenceKey, CompletableFuture<Appended> future,
      long queuedNanos) {}

  private final TetherClient client;
  private final String sessionId;
  private final String producerId;
  private final String device;
  private final boolean autoClaim;
  private final int maxBatchEvents;
  private final int maxBatchBytes;
  private final Duration deliveryTimeout;
  private final Duration closeTimeout;
  private final Backoff backoff;
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();

  private final Object lock = new Object();
  // Guarded by lock.
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private final Set<String> fencedRuns = new HashSet<>();
  private List<Item> inFlight;
  private long epoch;
  private long seq;
  private TetherException failure;
  private boolean closed;
  private boolean abandoned;
  private ScheduledFuture<?> retryTimer;

  private IdempotentProducer(Builder b) {
    this.client = b.client;
    this.sessionId = b.sessionId;
    this.producerId = b.producerId != null ? b.producerId
        : "p-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    this.device = b.device != null ? b.device : producerId;
    this.epoch = b.epoch;
    this.autoClaim = b.autoClaim;
    this.maxBatchEvents = b.maxBatchEvents;
    this.maxBatchBytes = b.maxBatchBytes;
    this.deliveryTimeout = b.deliveryTimeout;
    this.closeTimeout = b.closeTimeout;
    this.backoff = b.backoff;
  }

  /** The producer id. */
  public String producerId() {
    return producerId;
  }

  /** The envelope producer it stamps on events. */
  public String device() {
    return device;
  }

  /** The epoch in use now. */
  public long epoch() {
    synchronized (lock) {
      return epoch;
    }
  }

  /** Requests sent, retries included. */
  public long requests() {
    return requests.get();
  }

  /** Requests that were retries of a batch whose answer was lost or refused for now. */
  public long retries() {
    return retries.get();
  }

  /** Batches the server answered as already stored (retries whose first try had landed). */
  public long duplicates() {
    return duplicates.get();
  }

  /** Why the producer stopped for good (stale epoch, sequence gap, closed session), if it did. */
  public Optional<TetherException> failure() {
    synchronized (lock) {
      return Optional.ofNullable(failure);
    }
  }

  /** Queues an event; completes once it is durable, or fails with the reason it is not. */
  public CompletableFuture<Appended> send(Event event) {
    Envelope e = event.envelope().completed(device, Instant.now().toString());
    byte[] json = Json.write(e.toJson()).getBytes(StandardCharsets.UTF_8);
    String fenceKey = e.type().startsWith("control.") ? null : e.run();
    Item item = new Item(json, fenceKey, new CompletableFuture<>(), System.nanoTime());
    synchronized (lock) {
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      if (closed) {
        return CompletableFuture.failedFuture(
            new TetherException("closed", "the producer is closed; nothing was sent"));
      }
      if (fenceKey != null && fencedRuns.contains(fenceKey)) {
        return CompletableFuture.failedFuture(fenced(fenceKey));
      }
      queue.add(item);
    }
    pump();
    return item.future;
  }

  /** Queues events in order; completes when the last is durable (or one fails). */
  public CompletableFuture<Appended> sendAll(List<? extends Event> events) {
    List<CompletableFuture<Appended>> all = new ArrayList<>();
    events.forEach(e -> all.add(send(e)));
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> all.get(all.size() - 1).join());
  }

  /** Completes when everything queued before the call is resolved, durable or failed. */
  public CompletableFuture<Void> flush() {
    List<CompletableFuture<Appended>> open = new ArrayList<>();
    synchronized (lock) {
      if (inFlight != null) {
        inFlight.forEach(i -> open.add(i.future));
      }
      queue.forEach(i -> open.add(i.future));
    }
    return CompletableFuture.allOf(open.stream().map(f -> f.handle((a, e) -> null))
        .toArray(CompletableFuture[]::new));
  }

  /**
   * Refuses new events, waits up to the close timeout (10 s) for the queued ones, then fails
   * what is left with {@code closed}. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      flush().get(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      // fail what is left below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Item> left = new ArrayList<>();
    synchronized (lock) {
      abandoned = true;
      if (retryTimer != null) {
        retryTimer.cancel(false);
      }
      if (inFlight != null) {
        left.addAll(inFlight);
      }
      left.addAll(queue);
      queue.clear();
    }
    TetherException e = new TetherException("closed", "the producer closed before this was sent");
    left.forEach(i -> i.future.completeExceptionally(e));
    client.untrack(this);
  }

  @Override
  public String toString() {
    return "IdempotentProducer[" + sessionId + ", " + producerId + "@" + epoch() + "]";
  }

  // --- sending ---------------------------------------------------------------------------------

  private void pump() {
    List<Item> batch;
    long batchSeq;
    long batchEpoch;
    synchronized (lock) {
      if (inFlight != null || queue.isEmpty() || failure != null || abandoned) {
        return;
      }
      batch = new ArrayList<>();
      String run = queue.peek().fenceKey();
      int bytes = 0;
      while (!queue.isEmpty() && batch.size() < maxBatchEvents
          && Objects.equals(queue.peek().fenceKey(), run)
          && (batch.isEmpty() || bytes + queue.peek().json().length <= maxBatchBytes)) {
        Item next = queue.poll();
        bytes += next.json().length + 1;
        batch.add(next);
      }
      inFlight = batch;
      batchSeq = seq;
      batchEpoch = epoch;
    }
    attempt(batch, batchEpoch, batchSeq, 0);
  }

  private void attempt(List<Item> batch, long batchEpoch, long batchSeq, int attempt) {
    byte[] body = body(batch);
    HttpRequest.Builder request = client.request("/v1/stream/" + TetherClient.encode(sessionId))
        .header("Content-Type", "application/json")
        .header("Producer-Id", producerId)
        .header("Producer-Epoch", Long.toString(batchEpoch))
        .header("Producer-Seq", Long.toString(batchSeq))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    requests.incrementAndGet();
    if (attempt > 0) {
      retries.incrementAndGet();
    }
    CompletableFuture<HttpResponse<String>> sent;
    try {
      sent = client.send(request);
    } catch (RuntimeException rejected) {
      sent = CompletableFuture.failedFuture(rejected);
    }
    sent.whenComplete((response, error) -> {
      try {
        answered(batch, batchEpoch, batchSeq, attempt, response, error);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "producer " + producerId + " failed handling an answer", e);
        settle(batch, null, e instanceof TetherException t ? t
            : new TetherException("error", e.toString()), false);
      }
    });
  }

  private void answered(List<Item> batch, long batchEpoch, long batchSeq, int attempt,
      HttpResponse<String> response, Throwable error) {
    if (error != null) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null
          ? error.getCause() : error;
      retry(batch, batchEpoch, batchSeq, attempt, null, "request failed: " + cause);
      return;
    }
    int status = response.statusCode();
    if (status == 200 || status == 204) {
      boolean duplicate = status == 204;
      if (duplicate) {
        duplicates.incrementAndGet();
      }
      String offset = response.headers().firstValue("Stream-Next-Offset").orElse(null);
      synchronized (lock) {
        seq = batchSeq + 1;
      }
      settle(batch, new Appended(offset, duplicate), null, false);
      return;
    }
    if (status == 429 || status >= 500) {
      Duration after = response.headers().firstValue("Retry-After")
          .flatMap(IdempotentProducer::seconds).orElse(null);
      retry(batch, batchEpoch, batchSeq, attempt, after, "HTTP " + status);
      return;
    }
    TetherException problem = TetherClient.problem(response);
    if (status == 403 && response.headers().firstValue("Producer-Epoch").isPresent()) {
      long current = number(response.headers().firstValue("Producer-Epoch").get())
          .orElse(batchEpoch);
      if (autoClaim) {
        synchronized (lock) {
          epoch = Math.max(epoch, current + 1);
          seq = 0;
        }
        attempt(batch, current + 1, 0, attempt + 1);
        return;
      }
      settle(batch, null, new TetherException("stale-epoch", "producer " + producerId
          + " was fenced by epoch " + current + " (this one is " + batchEpoch + ")", 403, null),
          true);
      return;
    }
    if (status == 409 && response.headers().firstValue("Producer-Expected-Seq").isPresent()) {
      settle(batch, null, new TetherException("sequence-gap", problem.getMessage(), 409, null), true);
      return;
    }
    if (status == 409 && response.headers().firstValue("Stream-Closed").isPresent()) {
      settle(batch, null, new TetherException("closed", "the session is closed", 409, null), true);
      return;
    }
    if (status == 409) {
      String run = batch.get(0).fenceKey();
      settle(batch, null, run == null ? problem : fenced(run), false);
      return;
    }
    // 400, 401, 404, 413: this batch is refused, its sequence number unused; the next goes on.
    settle(batch, null, problem, false);
  }

  private void retry(List<Item> batch, long batchEpoch, long batchSeq, int attempt,
      Duration retryAfter, String why) {
    long waited = System.nanoTime() - batch.get(0).queuedNanos();
    Duration wait = retryAfter != null ? retryAfter : backoff.delay(attempt);
    if (waited + wait.toNanos() > deliveryTimeout.toNanos()) {
      synchronized (lock) {
        // The batch may have landed: a new epoch keeps what follows from being taken for it.
        epoch = epoch + 1;
        seq = 0;
      }
      settle(batch, null, new TetherException("timeout", "not acknowledged within "
          + deliveryTimeout.toSeconds() + " s (" + why + "); it may or may not be stored"), false);
      return;
    }
    LOG.log(System.Logger.Level.DEBUG, "producer {0}: {1}; retrying seq {2} in {3} ms",
        producerId, why, batchSeq, wait.toMillis());
    synchronized (lock) {
      if (abandoned) {
        return;
      }
      retryTimer = client.timer().schedule(() -> attempt(batch, batchEpoch, batchSeq, attempt + 1),
          wait.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Completes a batch's events, then sends the next batch (unless the producer stopped). */
  private void settle(List<Item> batch, Appended ok, TetherException error, boolean fatal) {
    List<Item> alsoFailed = new ArrayList<>();
    synchronized (lock) {
      inFlight = null;
      if (fatal) {
        failure = error;
        alsoFailed.addAll(queue);
        queue.clear();
      } else if (error != null && error.code().equals("fenced")
          && batch.get(0).fenceKey() != null) {
        String run = batch.get(0).fenceKey();
        fencedRuns.add(run);
        for (Iterator<Item> it = queue.iterator(); it.hasNext(); ) {
          Item i = it.next();
          if (run.equals(i.fenceKey())) {
            it.remove();
            alsoFailed.add(i);
          }
        }
      }
    }
    for (Item i : batch) {
      if (error != null) {
        i.future.completeExceptionally(error);
      } else {
        i.future.complete(ok);
      }
    }
    alsoFailed.forEach(i -> i.future.completeExceptionally(error));
    pump();
  }

  private static TetherException fenced(String run) {
    return new TetherException("fenced", "run " + run
        + " was cancelled or lost; the session refuses its output", 409, null);
  }

  private static byte[] body(List<Item> batch) {
    int size = 2 + batch.size();
    for (Item i : batch) {
      size += i.json().length;
    }
    byte[] out = new byte[size];
    int at = 0;
    out[at++] = '[';
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        out[at++] = ',';
      }
      byte[] json = batch.get(i).json();
      System.arraycopy(json, 0, out, at, json.length);
      at += json.length;
    }
    out[at++] = ']';
    return java.util.Arrays.copyOf(out, at);
  }

  private static Optional<Duration> seconds(String value) {
    return number(value).map(Duration::ofSeconds);
  }

  private static Optional<Long> number(String value) {
    try {
      return Optional.of(Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
