package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Chaos on a three-node cluster of real processes sharing one Cassandra: many sessions, one
 * idempotent producer per session and two long-poll readers per session, all of which only know
 * the list of live nodes and fail over between them. While the traffic runs, the oldest node (the
 * one holding the shard coordinator) is killed with SIGKILL, a node is started again in its
 * place, then the node whose Generator is in the middle of a tool call of a harness run is
 * killed with SIGKILL, and last the node holding the most sessions is stopped gracefully
 * (SIGTERM). The harness run must finish on a survivor without running a completed tool call
 * again, its session showing the interruption.
 *
 * <p>At the end every session holds exactly what its producer had acknowledged, in order and
 * none twice, and every reader received exactly that. For each disruption the test records a
 * timeline measured from the signal: when a survivor saw the node unreachable, downed and
 * removed (polling the management API), and per affected session the acknowledgement of the
 * first append sent after the signal (one sent before and answered after may have been written by
 * the killed node just before it died) and the first delivery to a reader of the first line
 * whose first attempt was sent after the signal (a retried line may have been delivered before
 * it). The
 * timelines are printed and written to {@code target/chaos-failover.txt}. The SIGKILL's first
 * acknowledged append on every affected
 * session must come within {@code -Dtether.chaos.kill-budget-ms} (15 s by default: the goal is
 * 5 s, and this bound leaves room for a loaded CI machine while the previous settings, at ~22 s,
 * fail it).
 */
class ClusterChaosIT {
  private static final int SESSIONS = 24;
  private static final int NUMBER_OF_SHARDS = 100;
  private static final Duration PRODUCER_INTERVAL = Duration.ofMillis(150);
  private static final Duration KILL_BUDGET =
      Duration.ofMillis(Long.getLong("tether.chaos.kill-budget-ms", 15_000));
  private static final Path DIR = Path.of(System.getProperty("tether.test.work-dir"), "cluster-chaos");
  private static final Path REPORT = Path.of(System.getProperty("tether.test.work-dir"))
      .getParent().resolve("chaos-failover.txt");
  /**
   * Extra {@code -D} options for every node, to measure other failover settings against the
   * same traffic without rebuilding (e.g. the previous timings, for the before/after figures).
   */
  private static final List<String> NODE_OPTS = List.of(
      System.getProperty("tether.chaos.node-opts", "").trim().split("\\s+")).stream()
      .filter(o -> !o.isEmpty()).toList();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<ClusterNode> members = new CopyOnWriteArrayList<>();
  private static final List<String> report = new CopyOnWriteArrayList<>();
  private static Map<String, String> env;

  /** A node's options: the chaos options, and the slowed harness script in its own workspace. */
  private static List<String> nodeOpts(ClusterNode node) {
    List<String> opts = new ArrayList<>(NODE_OPTS);
    opts.addAll(SlowHarnessRun.nodeProperties(DIR.resolve("scripts"),
        DIR.resolve("workspaces-" + node.name)));
    return opts;
  }

  @BeforeAll
  static void startCluster() throws Exception {
    Files.createDirectories(DIR);
    String keyspace = TestCassandra.keyspaceFor("ClusterChaosIT");
    List<ClusterNode> nodes = List.of(new ClusterNode("node1", DIR), new ClusterNode("node2", DIR),
        new ClusterNode("node3", DIR));
    env = Map.of(
        "TETHER_CASSANDRA_CONTACT_POINTS", TestCassandra.get().contactPoint(),
        "TETHER_CASSANDRA_KEYSPACE", keyspace,
        "TETHER_CASSANDRA_SNAPSHOT_KEYSPACE", keyspace + "_snap",
        "TETHER_SEED_NODES", nodes.get(0).address() + "," + nodes.get(1).address(),
        "TETHER_AUTH_ENABLED", "false");
    Process migrate = ClusterNode.tether(List.of("migrate"), env, List.of(), DIR.resolve("migrate.log"));
    assertTrue(migrate.waitFor(3, TimeUnit.MINUTES) && migrate.exitValue() == 0,
        () -> "tether migrate failed: " + read(DIR.resolve("migrate.log")));
    SlowHarnessRun.writeScript(DIR.resolve("scripts"));
    // The first seed starts first, so it is the oldest member and hosts the shard coordinator.
    members.add(nodes.get(0).start(env, nodeOpts(nodes.get(0))));
    nodes.get(0).awaitReady(Duration.ofMinutes(3));
    for (ClusterNode n : nodes.subList(1, 3)) {
      members.add(n.start(env, nodeOpts(n)));
    }
    for (ClusterNode n : members) {
      n.awaitReady(Duration.ofMinutes(3));
    }
    await(Duration.ofMinutes(1), "three members Up", () -> upEverywhere(3));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (ClusterNode n : members) {
      n.close();
    }
  }

  @Test
  void nothingIsLostOrDuplicatedAcrossKillsARestartAndAGracefulStop() throws Exception {
    List<String> sessions = new ArrayList<>();
    for (int i = 0; i < SESSIONS; i++) {
      String s = "chaos-" + i;
      create(members.get(i % 3), s);
      sessions.add(s);
    }
    List<StreamTraffic.Producer> producers = new ArrayList<>();
    List<StreamTraffic.Reader> readers = new ArrayList<>();
    for (int i = 0; i < SESSIONS; i++) {
      producers.add(new StreamTraffic.Producer(sessions.get(i), () -> members, PRODUCER_INTERVAL).start());
      for (int r = 0; r < 2; r++) {
        readers.add(new StreamTraffic.Reader(sessions.get(i), () -> members, i + r).start());
      }
    }
    await(Duration.ofMinutes(1), "traffic flowing on every session",
        () -> producers.stream().allMatch(p -> p.lastAcked() >= 5));

    // 1. SIGKILL of the oldest node: the shard coordinator moves along with its sessions.
    ClusterNode oldest = oldest();
    Timeline kill = disrupt("SIGKILL", oldest, producers, readers, ClusterNode::kill, true);

    // 2. The killed node starts again on the same address and joins; shards rebalance onto it.
    // Its seed nodes are the live members: restarted with itself first in the list, a first seed
    // node forms a cluster of its own when no other seed answers within seed-node-timeout (5 s),
    // which a loaded machine can miss (seen here under load 45: two clusters on one journal).
    Map<String, String> rejoin = new java.util.HashMap<>(env);
    rejoin.put("TETHER_SEED_NODES", String.join(",", members.stream().map(ClusterNode::address).toList()));
    long restartMark = System.nanoTime();
    ClusterNode restarted = oldest.start(rejoin, nodeOpts(oldest));
    restarted.awaitReady(Duration.ofMinutes(3));
    members.add(restarted);
    await(Duration.ofMinutes(1), "three members Up again", () -> upEverywhere(3));
    record(String.format("restart of %s: ready and Up on every member after %d ms",
        restarted.name, millisSince(restartMark)));
    int ackedAtRestart = producers.stream().mapToInt(StreamTraffic.Producer::lastAcked).sum();
    await(Duration.ofMinutes(1), "traffic flowing after the restart",
        () -> producers.stream().mapToInt(StreamTraffic.Producer::lastAcked).sum() >= ackedAtRestart + SESSIONS * 5);

    // 3. SIGKILL of the node whose Generator is in the middle of a tool call of a harness run:
    // the run finishes on a survivor and no completed tool call runs again. The sessions on that
    // node (the restarted one may hold none yet) fail over as in 1.
    SlowHarnessRun run = SlowHarnessRun.start(() -> members, NUMBER_OF_SHARDS);
    run.awaitGeneratorMidTool(Duration.ofMinutes(2));
    ClusterNode generatorNode = run.generatorNode();
    run.awaitGeneratorMidTool(Duration.ofMinutes(1));
    disrupt("SIGKILL", generatorNode, producers, readers, ClusterNode::kill, false);
    record(String.format("harness run %s, its Generator's node killed mid-tool: %s", run.runId,
        run.checkFinishedAfterInterruption()));

    // 4. Graceful stop (SIGTERM) of the node holding the most sessions: shards are handed over.
    ClusterNode busiest = members.stream()
        .max(Comparator.comparingInt(n -> hostedBy(n, sessions).size())).orElseThrow();
    disrupt("SIGTERM", busiest, producers, readers, n -> n.leave(Duration.ofSeconds(90)), true);

    for (StreamTraffic.Producer p : producers) {
      p.finishAndJoin();
    }
    await(Duration.ofMinutes(1), "readers catching up", () -> readers.stream().allMatch(r ->
        r.lines().size() >= producerOf(producers, r.stream).acked.size()));
    readers.forEach(StreamTraffic.Reader::stopNow);
    for (StreamTraffic.Reader r : readers) {
      r.join();
    }

    long total = 0;
    for (StreamTraffic.Producer p : producers) {
      assertNull(p.failure(), () -> "producer failed: " + p.failure());
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < p.acked.size(); i++) {
        assertEquals(i, p.acked.get(i), "producer " + p.stream + " acknowledgements out of order");
        expected.add(p.stream + "-" + i);
      }
      total += expected.size();
      assertEquals(expected, readAll(members.get(0), p.stream), p.stream + ": stored != acknowledged");
      for (StreamTraffic.Reader r : readers) {
        if (r.stream.equals(p.stream)) {
          assertNull(r.failure(), () -> "reader failed: " + r.failure());
          assertEquals(expected, r.lines(), p.stream + ": delivered != acknowledged");
        }
      }
    }
    record(String.format("%d sessions, %d acknowledged appends: every one stored once and delivered "
        + "once, in order, to both readers of its session; 0 lost, 0 duplicated", SESSIONS, total));
    String text = String.join("\n", report) + "\n";
    System.out.print(text);
    Files.writeString(REPORT, text);
    // Last, so that a slow failover does not hide what the other phases found.
    assertTrue(kill.firstAppendMaxMillis() <= KILL_BUDGET.toMillis(),
        "after SIGKILL the affected sessions must take appends again within " + KILL_BUDGET + ": " + kill);
  }

  /** The figures of one disruption, in milliseconds from the signal; -1 where not observed. */
  record Timeline(String signal, String node, int affected, long unreachable, long downed,
      long removed, List<Long> firstAppends, List<Long> firstDeliveries) {

    long firstAppendMaxMillis() {
      return firstAppends.stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    @Override
    public String toString() {
      return String.format("%s of %s (%d of %d sessions on it): unreachable +%d ms, downed +%d ms, "
              + "removed +%d ms; first acknowledged append per affected session +%s ms; "
              + "first delivery per affected session +%s ms",
          signal, node, affected, SESSIONS, unreachable, downed, removed, spread(firstAppends),
          spread(firstDeliveries));
    }

    private static String spread(List<Long> values) {
      if (values.isEmpty()) {
        return "(none)";
      }
      List<Long> sorted = values.stream().sorted().toList();
      return sorted.get(0) + " min / " + sorted.get(sorted.size() / 2) + " median / "
          + sorted.get(sorted.size() - 1) + " max";
    }
  }

  private interface NodeAction {
    void apply(ClusterNode node) throws Exception;
  }

  private static Timeline disrupt(String signal, ClusterNode target, List<StreamTraffic.Producer> producers,
      List<StreamTraffic.Reader> readers, NodeAction action, boolean mustHostSessions)
      throws Exception {
    List<String> affected = hostedBy(target, producers.stream().map(p -> p.stream).toList());
    assertTrue(!mustHostSessions || !affected.isEmpty(), target.name + " hosts no session");
    List<ClusterNode> survivors = members.stream().filter(n -> n != target).toList();
    MembershipWatch watch = new MembershipWatch(target.address(), survivors).start();
    long mark = System.nanoTime();
    watch.mark(mark);
    members.remove(target); // clients stop using the node from now on (a load balancer would)
    action.apply(target);
    await(Duration.ofMinutes(2), "every affected session taking appends again after " + signal,
        () -> affected.stream().allMatch(s -> producerOf(producers, s).firstAckSentAfter(mark) != null));
    // Per affected session, the first acknowledged line first sent after the signal, and when a
    // reader got it. Not the line of the first append sent after it: that may be a retry of a line
    // the killed node stored, and readers received, just before it died.
    await(Duration.ofMinutes(1), "a line first sent after " + signal + " acknowledged on every affected session",
        () -> affected.stream().allMatch(s -> producerOf(producers, s).firstLineFirstSentAfter(mark) != null));
    Map<String, Integer> firstNew = new java.util.HashMap<>();
    for (String s : affected) {
      firstNew.put(s, producerOf(producers, s).firstLineFirstSentAfter(mark));
    }
    await(Duration.ofMinutes(1), "every affected session delivering to a reader again after " + signal,
        () -> affected.stream().allMatch(s -> readers.stream()
            .anyMatch(r -> r.stream.equals(s) && r.deliveredAt(firstNew.get(s)) != null)));
    await(Duration.ofMinutes(1), "the survivors seeing " + target.name + " removed", watch::removedSeen);
    watch.stop();
    List<Long> appends = affected.stream()
        .map(s -> millis(producerOf(producers, s).firstAckSentAfter(mark))).toList();
    List<Long> deliveries = affected.stream().map(s -> readers.stream()
        .filter(r -> r.stream.equals(s)).map(r -> r.deliveredAt(firstNew.get(s)))
        .filter(Objects::nonNull).mapToLong(at -> millis(at - mark)).min().orElse(-1)).toList();
    Timeline timeline = new Timeline(signal, target.name, affected.size(), watch.unreachableMillis(),
        watch.downedMillis(), watch.removedMillis(), appends, deliveries);
    record(timeline.toString());
    return timeline;
  }

  /**
   * Polls the survivors' management API every 100 ms and notes when the target first shows as
   * unreachable, as {@code Down}, and when it is gone from the membership.
   */
  private static final class MembershipWatch implements Runnable {
    private final String target;
    private final List<ClusterNode> survivors;
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile long mark;
    private volatile long unreachable = -1;
    private volatile long downed = -1;
    private volatile long removed = -1;
    private Thread thread;

    MembershipWatch(String target, List<ClusterNode> survivors) {
      this.target = target;
      this.survivors = survivors;
    }

    MembershipWatch start() {
      thread = new Thread(this, "membership-watch");
      thread.setDaemon(true);
      thread.start();
      return this;
    }

    void mark(long nanos) {
      mark = nanos;
    }

    void stop() throws InterruptedException {
      stop.set(true);
      thread.join(5_000);
    }

    boolean removedSeen() {
      return removed >= 0;
    }

    long unreachableMillis() {
      return unreachable;
    }

    long downedMillis() {
      return downed;
    }

    long removedMillis() {
      return removed;
    }

    @Override
    public void run() {
      int turn = 0;
      while (!stop.get()) {
        ClusterNode survivor = survivors.get(turn++ % survivors.size());
        try {
          JsonNode state = JSON.readTree(ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create(
                  "http://" + survivor.host + ":" + survivor.managementPort + "/cluster/members"))
              .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body());
          long now = mark == 0 ? -1 : millisSince(mark);
          boolean present = false;
          for (JsonNode m : state.path("members")) {
            if (m.path("node").asText().equals(target)) {
              present = true;
              String status = m.path("status").asText();
              if (downed < 0 && now >= 0 && (status.equals("Down") || status.equals("Leaving")
                  || status.equals("Exiting"))) {
                downed = now;
              }
            }
          }
          for (JsonNode u : state.path("unreachable")) {
            if (u.path("node").asText().equals(target) && unreachable < 0 && now >= 0) {
              unreachable = now;
            }
          }
          if (!present && now >= 0 && removed < 0) {
            removed = now;
          }
          TimeUnit.MILLISECONDS.sleep(100);
        } catch (InterruptedException e) {
          return;
        } catch (Exception busyOrGone) {
          // poll again
        }
      }
    }
  }

  private static void record(String line) {
    System.out.println("chaos: " + line);
    report.add(line);
  }

  private static ClusterNode oldest() throws Exception {
    String oldest = JSON.readTree(ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create("http://"
            + members.get(0).host + ":" + members.get(0).managementPort + "/cluster/members"))
        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString()).body())
        .path("oldest").asText();
    return members.stream().filter(n -> n.address().equals(oldest)).findFirst()
        .orElseThrow(() -> new AssertionError("no member is the oldest: " + oldest));
  }

  /** Creates a stream; PUT is idempotent, so a 503 of a busy node (a fresh keyspace) is retried. */
  private static void create(ClusterNode node, String stream) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (true) {
      HttpResponse<String> created = ClusterNode.HTTP.send(HttpRequest.newBuilder(
              URI.create(node.baseUrl() + "/v1/stream/" + stream))
          .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      if (created.statusCode() == 201 || created.statusCode() == 200) {
        return;
      }
      assertEquals(503, created.statusCode(), created.body());
      assertTrue(Instant.now().isBefore(deadline), "could not create " + stream + ": " + created.body());
    }
  }

  private static List<String> hostedBy(ClusterNode node, List<String> sessions) {
    String shards;
    try {
      shards = node.localShards("Session");
    } catch (Exception e) {
      return List.of();
    }
    return sessions.stream().filter(s -> shards.contains(
        "\"shardId\":\"" + Math.abs(s.hashCode() % NUMBER_OF_SHARDS) + "\"")).toList();
  }

  private static List<String> readAll(ClusterNode node, String stream) throws Exception {
    StringBuilder out = new StringBuilder();
    String offset = "-1";
    for (int guard = 0; guard < 10_000; guard++) {
      HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create(
          node.baseUrl() + "/v1/stream/" + stream + "?offset=" + offset))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      out.append(r.body());
      offset = r.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (r.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        break;
      }
    }
    return out.toString().lines().filter(l -> !l.isEmpty()).toList();
  }

  private static StreamTraffic.Producer producerOf(List<StreamTraffic.Producer> producers, String stream) {
    return producers.stream().filter(p -> p.stream.equals(stream)).findFirst().orElseThrow();
  }

  private static boolean upEverywhere(int expected) {
    try {
      for (ClusterNode n : members) {
        if (n.membersUp() != expected) {
          return false;
        }
      }
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static long millis(Long nanos) {
    return nanos == null ? -1 : TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static long millisSince(long mark) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - mark);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (Exception e) {
      return "";
    }
  }

  private static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        StringBuilder logs = new StringBuilder();
        members.forEach(n -> logs.append("\n--- ").append(n.name).append('\n').append(n.tail()));
        throw new AssertionError("timed out waiting for " + what + logs);
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }
}
