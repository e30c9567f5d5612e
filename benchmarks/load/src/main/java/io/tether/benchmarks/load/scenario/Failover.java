package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.Log;
import io.tether.benchmarks.load.client.HttpClients;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.client.TimestampScanner;
import io.tether.benchmarks.load.client.WsSubscriber;
import io.tether.benchmarks.load.measure.DeliverySink;
import io.tether.benchmarks.load.measure.Latencies;
import io.tether.benchmarks.load.measure.RateTimeline;
import io.tether.benchmarks.load.result.Metric.Better;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.targets.TetherCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Scenario 7, failover: the time from killing the node that holds a session to the first event
 * delivered to its subscribers. For Tether only: the peer is a single process, so it has no
 * failover to measure. The scenario starts its own three-node cluster ({@link TetherCluster},
 * the shape of {@code local-cluster.sh}) from the source the run's Tether came from, and per
 * repetition:
 *
 * <ol>
 *   <li>creates a session whose entity lives on the node to kill (found from outside through
 *       Pekko Management's shard listing; the victim rotates over the nodes);
 *   <li>attaches two WebSocket subscribers at its tail: one through the victim itself, which
 *       loses its socket and, as a client would, reconnects to the next node and resumes after
 *       the last offset it received; one through a surviving node, whose connection re-finds
 *       the session by itself;
 *   <li>writes model-like deltas through the third node with a retrying idempotent producer
 *       ({@link RetryingProducer}), so nothing is lost or doubled by retries;
 *   <li>SIGKILLs the victim and waits until each subscriber has received a delta produced after
 *       the kill; keeps writing a little, then checks that each subscriber received every
 *       acknowledged delta exactly once and in order;
 *   <li>starts the victim again for the next repetition.
 * </ol>
 *
 * <p>Reported: kill to first delivery of a post-kill delta per subscriber, kill to the first
 * acknowledged post-kill append, p50 and max over the repetitions, and losses or duplicates.
 * The figures are dominated by failure detection and downing (the split-brain resolver's
 * {@code stable-after}), then the session's recovery on its new node.
 */
public final class Failover implements Scenario {
  /**
   * The parameters, recorded with the results.
   *
   * @param numberOfShards {@code pekko.cluster.sharding.number-of-shards} of the cluster
   *     (cluster-config's {@code tether-sharding.conf}), to find a session's shard
   */
  public record Params(int nodes, int repetitions, int deltasPerSecond, int warmupSeconds,
      int maxRecoverySeconds, int afterSeconds, int numberOfShards, String kill,
      String subscribers) {}

  private static final int PLACEMENT_ATTEMPTS = 30;

  private final Params p;

  public Failover(Params params) {
    this.p = params;
  }

  public static Params full() {
    return new Params(3, 5, 20, 3, 60, 3, 100, "SIGKILL", "ws");
  }

  public static Params quick() {
    return new Params(3, 3, 20, 3, 60, 2, 100, "SIGKILL", "ws");
  }

  @Override
  public String id() {
    return "failover";
  }

  @Override
  public String title() {
    return "7. Failover: node kill to first delivery (Tether only, " + p.nodes
        + " local nodes, " + p.repetitions + " kills)";
  }

  @Override
  public Object params() {
    return p;
  }

  @Override
  public int maxSeconds() {
    return 480 + p.repetitions * (p.warmupSeconds + p.maxRecoverySeconds + p.afterSeconds + 300);
  }

  @Override
  public boolean measuresTarget() {
    return false;
  }

  @Override
  public ScenarioResult run(ScenarioContext ctx) throws Exception {
    ScenarioResult.Builder r = new ScenarioResult.Builder(id(), title(), p);
    if (ctx.tetherRoot() == null) {
      return r.build(ctx.target().name().equals("peer")
          ? "skipped: the peer is a single process, with no other node to fail over to; "
              + "failover is measured for Tether only, on a three-node cluster it starts"
          : "skipped: the run did not start this target, so it has no Tether build to start "
              + "a three-node cluster from");
    }
    Log.info(id() + ": starting a three-node cluster");
    long starting = System.nanoTime();
    try (TetherCluster cluster = TetherCluster.start(ctx.tetherRoot(), ctx.logs(),
        Duration.ofSeconds(300))) {
      r.metric("cluster start (Cassandra, migrate, 3 nodes ready)",
          (System.nanoTime() - starting) / 1e9, "s", Better.NEITHER);
      Log.info(id() + String.format(": cluster ready in %.0f s", (System.nanoTime() - starting)
          / 1e9));
      return measure(ctx, cluster, r);
    }
  }

  private ScenarioResult measure(ScenarioContext ctx, TetherCluster cluster,
      ScenarioResult.Builder r) throws Exception {
    HttpClient http = HttpClients.newClient("failover");
    String token = cluster.issueToken("bench-failover", Duration.ofHours(2));
    List<TetherCluster.Node> nodes = cluster.nodes();
    StreamClient base = new StreamClient(http, nodes.get(0).url(), "/v1/stream/",
        Duration.ofSeconds(10)).withBearer(token);
    Histogram moved = Latencies.newHistogram();
    Histogram stayed = Latencies.newHistogram();
    Histogram writes = Latencies.newHistogram();
    long missing = 0;
    long anomalies = 0;
    long retries = 0;
    int reconnects = 0;
    int done = 0;
    double restartSeconds = 0;
    int restarts = 0;
    String status = "ok";
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(t -> {
      Thread thread = new Thread(t, "failover-writer");
      thread.setDaemon(true);
      return thread;
    });
    try {
      for (int rep = 0; rep < p.repetitions; rep++) {
        int wanted = (nodes.size() - 1 - rep % nodes.size());
        String session = null;
        int victim = -1;
        for (int k = 0; k < PLACEMENT_ATTEMPTS && victim != wanted; k++) {
          String candidate = ctx.stream(id(), rep + "-" + k);
          if (!base.create(candidate, StreamClient.JSON).get(30, TimeUnit.SECONDS).ok()) {
            continue;
          }
          OptionalInt host = awaitHost(cluster, candidate);
          if (host.isPresent()) {
            session = candidate;
            victim = host.getAsInt();
          }
        }
        if (session == null) {
          r.note("repetition " + (rep + 1) + ": no session could be created and placed");
          status = "failed: sessions could not be placed";
          break;
        }
        int writer = (victim + 1) % nodes.size();
        int survivor = (victim + 2) % nodes.size();
        Rep outcome = once(cluster, http, base, token, session, victim, writer, survivor, rep,
            clock);
        r.note(outcome.summary);
        Log.info(id() + ": " + outcome.summary);
        if (outcome.failed != null) {
          status = "failed: " + outcome.failed;
        } else {
          done++;
          Latencies.record(moved, 0, outcome.movedNanos);
          Latencies.record(stayed, 0, outcome.stayedNanos);
          Latencies.record(writes, 0, outcome.writeNanos);
        }
        missing += outcome.missing;
        anomalies += outcome.anomalies;
        retries += outcome.retries;
        reconnects += outcome.reconnects;
        if (rep < p.repetitions - 1) {
          long restarting = System.nanoTime();
          try {
            cluster.restart(victim, Duration.ofSeconds(180));
          } catch (Exception e) {
            r.note("node " + nodes.get(victim).name() + " did not come back: " + e.getMessage());
            status = "failed: a killed node did not restart";
            break;
          }
          restartSeconds += (System.nanoTime() - restarting) / 1e9;
          restarts++;
        }
      }
    } finally {
      clock.shutdownNow();
    }
    r.metric("repetitions measured", done, "", Better.NEITHER);
    r.latency("kill to first delivery, subscriber resumed on another node", moved);
    r.metric("kill to first delivery, subscriber resumed on another node max",
        moved.getMaxValue() / 1000.0, "ms", Better.LOWER);
    r.latency("kill to first delivery, subscriber on a surviving node", stayed);
    r.metric("kill to first delivery, subscriber on a surviving node max",
        stayed.getMaxValue() / 1000.0, "ms", Better.LOWER);
    r.latency("kill to first acknowledged append", writes);
    r.metric("kill to first acknowledged append max", writes.getMaxValue() / 1000.0, "ms",
        Better.LOWER);
    r.metric("deliveries missing", missing, "", Better.LOWER);
    r.metric("deliveries duplicated, reordered or after a gap", anomalies, "", Better.LOWER);
    r.metric("append retries", retries, "", Better.NEITHER);
    r.metric("subscriber reconnects", reconnects, "", Better.NEITHER);
    if (restarts > 0) {
      r.metric("killed node restart to ready (mean)", restartSeconds / restarts, "s",
          Better.NEITHER);
    }
    r.note("the peer is a single process: failover is measured for Tether only");
    r.note("a delivery counts once the subscriber receives a delta produced after the kill; the "
        + "time includes failure detection (acceptable-heartbeat-pause 3 s), the split-brain "
        + "resolver's stable-after (7 s), shard hand-over and the session's recovery");
    r.note("cpu: the cluster's nodes and its Cassandra are processes the load generator started, "
        + "so their CPU (killed nodes' included) is in 'cpu: load generator and the servers it "
        + "started'; the Tether target idles beside them");
    return r.build(status);
  }

  /** Waits up to 10 s for some node to list the session's shard. */
  private OptionalInt awaitHost(TetherCluster cluster, String session)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      OptionalInt host = cluster.hostOf(session, p.numberOfShards);
      if (host.isPresent()) {
        return host;
      }
      Thread.sleep(200);
    }
    return OptionalInt.empty();
  }

  /** What one kill showed. */
  private record Rep(String summary, String failed, long movedNanos, long stayedNanos,
      long writeNanos, long missing, long anomalies, long retries, int reconnects) {}

  private Rep once(TetherCluster cluster, HttpClient http, StreamClient base, String token,
      String session, int victim, int writer, int survivor, int rep,
      ScheduledExecutorService clock) throws Exception {
    List<TetherCluster.Node> nodes = cluster.nodes();
    String label = "repetition " + (rep + 1) + ": " + nodes.get(victim).name() + " killed";
    WsSubscriber.Settings patient = new WsSubscriber.Settings(50, Duration.ofMillis(200),
        Duration.ofSeconds(30), Duration.ofSeconds(5));
    Watch movingWatch = new Watch();
    Watch stayingWatch = new Watch();
    DeliverySink sink = new DeliverySink(new RateTimeline(1));
    WsSubscriber moving = new WsSubscriber(http,
        List.of(socket(base, nodes.get(victim).url(), session),
            socket(base, nodes.get(writer).url(), session),
            socket(base, nodes.get(survivor).url(), session)),
        token, "bench-failover-moving", "now", sink, movingWatch, patient);
    WsSubscriber staying = new WsSubscriber(http,
        List.of(socket(base, nodes.get(survivor).url(), session)),
        token, "bench-failover-staying", "now", sink, stayingWatch, patient);
    moving.start();
    staying.start();
    RetryingProducer producer = null;
    java.util.concurrent.ScheduledFuture<?> ticking = null;
    try {
      try {
        moving.ready().get(30, TimeUnit.SECONDS);
        staying.ready().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        return new Rep(label + ": subscribers could not attach (" + e.getMessage() + ")",
            "subscribers could not attach", 0, 0, 0, 0, 0, 0, 0);
      }
      producer = new RetryingProducer(base.on(nodes.get(writer).url()), session,
          "bench-failover-" + rep);
      RetryingProducer writing = producer;
      long period = 1_000_000_000L / p.deltasPerSecond;
      ticking = clock.scheduleAtFixedRate(writing::produce, 0, period, TimeUnit.NANOSECONDS);
      Thread.sleep(p.warmupSeconds * 1000L);
      if (movingWatch.count() == 0 || stayingWatch.count() == 0) {
        return new Rep(label + ": nothing was delivered before the kill", "no deliveries before "
            + "the kill", 0, 0, 0, 0, 0, 0, 0);
      }

      long kill = System.nanoTime();
      movingWatch.killedAt(kill);
      stayingWatch.killedAt(kill);
      producer.watchAcksFrom(kill);
      cluster.kill(victim);
      long deadline = kill + TimeUnit.SECONDS.toNanos(p.maxRecoverySeconds);
      while (System.nanoTime() < deadline
          && (movingWatch.firstNew() == Long.MAX_VALUE || stayingWatch.firstNew() == Long.MAX_VALUE
              || producer.firstAckAfter() == Long.MAX_VALUE)) {
        Thread.sleep(20);
      }
      long movedAt = movingWatch.firstNew();
      long stayedAt = stayingWatch.firstNew();
      long ackedAt = producer.firstAckAfter();
      if (movedAt == Long.MAX_VALUE || stayedAt == Long.MAX_VALUE || ackedAt == Long.MAX_VALUE) {
        return new Rep(label + ": no delivery of a post-kill delta within "
            + p.maxRecoverySeconds + " s (resumed subscriber: " + seconds(movedAt, kill)
            + ", surviving-node subscriber: " + seconds(stayedAt, kill) + ", writes: "
            + seconds(ackedAt, kill) + "; last failure " + moving.lastError() + ")",
            "no delivery within " + p.maxRecoverySeconds + " s", 0, 0, 0, 0, 0,
            producer.retries(), moving.reconnects() + staying.reconnects());
      }
      Thread.sleep(p.afterSeconds * 1000L);
      ticking.cancel(false);
      long drain = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < drain && !(producer.idle()
          && movingWatch.highest() >= producer.lastAcked()
          && stayingWatch.highest() >= producer.lastAcked())) {
        Thread.sleep(20);
      }
      long acked = producer.lastAcked();
      long lost = movingWatch.missing(acked) + stayingWatch.missing(acked);
      long odd = moving.sequenceAnomalies() + staying.sequenceAnomalies();
      URI movedTo = moving.connectedTo();
      String summary = String.format(Locale.ROOT, "%s (held the session; pid %d); resumed "
          + "subscriber (now on %s) got a post-kill delta after %.2f s, the one on %s after "
          + "%.2f s; writes through %s acknowledged again after %.2f s; %d deltas acknowledged, "
          + "%d missing, %d duplicated/reordered/after a gap, %d append retries%s",
          label, cluster.pid(victim), nodeOf(nodes, movedTo), (movedAt - kill) / 1e9,
          nodes.get(survivor).name(), (stayedAt - kill) / 1e9, nodes.get(writer).name(),
          (ackedAt - kill) / 1e9, acked + 1, lost, odd, producer.retries(),
          producer.refused() == null ? "" : "; writer refused: " + producer.refused());
      return new Rep(summary, producer.refused() == null ? null : "writer refused",
          movedAt - kill, stayedAt - kill, ackedAt - kill, lost, odd, producer.retries(),
          moving.reconnects() + staying.reconnects());
    } finally {
      if (ticking != null) {
        ticking.cancel(false);
      }
      moving.stop();
      staying.stop();
    }
  }

  private static URI socket(StreamClient base, URI node, String session) {
    return base.on(node).sessionSocketUri(session);
  }

  private static String nodeOf(List<TetherCluster.Node> nodes, URI socket) {
    if (socket == null) {
      return "?";
    }
    return nodes.stream().filter(n -> n.url().getPort() == socket.getPort())
        .map(TetherCluster.Node::name).findFirst().orElse(socket.getAuthority());
  }

  private static String seconds(long at, long kill) {
    return at == Long.MAX_VALUE ? "none" : String.format(Locale.ROOT, "%.2f s", (at - kill) / 1e9);
  }

  /** What one subscriber received: every delta's sequence number, and when deliveries resumed. */
  private static final class Watch implements WsSubscriber.EventListener {
    private final BitSet seen = new BitSet();
    private long highest = -1;
    private long count;
    private volatile long killedAt = Long.MAX_VALUE;
    private volatile long firstNew = Long.MAX_VALUE;

    @Override
    public synchronized void onEvent(String frame, String offset, long receivedNanos) {
      long[] sent = {Long.MIN_VALUE};
      if (TimestampScanner.scan(frame, t -> sent[0] = t) == 0) {
        return;
      }
      TimestampScanner.scanField(frame, "\"n\":", n -> {
        seen.set((int) n);
        highest = Math.max(highest, n);
      });
      count++;
      if (firstNew == Long.MAX_VALUE && sent[0] >= killedAt) {
        firstNew = receivedNanos;
      }
    }

    void killedAt(long nanos) {
      killedAt = nanos;
    }

    long firstNew() {
      return firstNew;
    }

    synchronized long count() {
      return count;
    }

    synchronized long highest() {
      return highest;
    }

    /** Acknowledged deltas (0 to {@code lastAcked}) this subscriber never received. */
    synchronized long missing(long lastAcked) {
      long have = seen.get(0, (int) lastAcked + 1).cardinality();
      return lastAcked + 1 - have;
    }
  }
}
