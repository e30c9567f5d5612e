package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.persistence.testkit.TestCassandra;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three nodes and one Cassandra, as separate processes. Producers stream into several sessions
 * and readers tail them through different nodes. The node holding the busiest session first
 * leaves gracefully (SIGTERM), then, after a replacement joined, another holder is killed with
 * SIGKILL. Clients only fail over to other nodes and resume from their last offset; at the end
 * every reader has every acknowledged line exactly once and in order.
 */
class ClusterFailoverIT {
  private static final int STREAMS = 4;
  private static final int NUMBER_OF_SHARDS = 100;
  private static final Path DIR = Path.of(System.getProperty("tether.test.work-dir"), "cluster-failover");
  private static final List<ClusterNode> members = new CopyOnWriteArrayList<>();
  private static Map<String, String> env;

  @BeforeAll
  static void startCluster() throws Exception {
    Files.createDirectories(DIR);
    String keyspace = TestCassandra.keyspaceFor("ClusterFailoverIT");
    ClusterNode n1 = new ClusterNode("node1", DIR);
    ClusterNode n2 = new ClusterNode("node2", DIR);
    ClusterNode n3 = new ClusterNode("node3", DIR);
    env = Map.of(
        "TETHER_CASSANDRA_CONTACT_POINTS", TestCassandra.get().contactPoint(),
        "TETHER_CASSANDRA_KEYSPACE", keyspace,
        "TETHER_CASSANDRA_SNAPSHOT_KEYSPACE", keyspace + "_snap",
        "TETHER_SEED_NODES", n1.address() + "," + n2.address(),
        "TETHER_AUTH_ENABLED", "false");
    Process migrate = ClusterNode.tether(List.of("migrate"), env, List.of(), DIR.resolve("migrate.log"));
    assertTrue(migrate.waitFor(3, TimeUnit.MINUTES) && migrate.exitValue() == 0,
        "tether migrate failed: " + Files.readString(DIR.resolve("migrate.log")));
    for (ClusterNode n : List.of(n1, n2, n3)) {
      members.add(n.start(env));
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
  void readersLoseNothingWhenTheNodeHoldingTheirSessionLeavesOrIsKilled() throws Exception {
    Outcome graceful = phase("leave", node -> node.leave(Duration.ofSeconds(90)));

    ClusterNode replacement = new ClusterNode("node4", DIR).start(env);
    members.add(replacement);
    replacement.awaitReady(Duration.ofMinutes(3));
    await(Duration.ofMinutes(1), "three members Up again", () -> upEverywhere(3));

    Outcome killed = phase("kill", ClusterNode::kill);

    String report = String.format("failover: graceful leave -> first event again after %d ms, "
            + "%d acked lines, 0 lost; SIGKILL -> first event again after %d ms, %d acked lines, 0 lost%n",
        graceful.failoverMillis, graceful.ackedLines, killed.failoverMillis, killed.ackedLines);
    System.out.print(report);
    Files.writeString(DIR.resolve("figures.txt"), report, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private record Outcome(long failoverMillis, int ackedLines) {}

  private interface NodeAction {
    void apply(ClusterNode node) throws Exception;
  }

  private static Outcome phase(String name, NodeAction action) throws Exception {
    List<String> streams = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      streams.add(name + "-" + i);
    }
    for (String s : streams) {
      HttpResponse<String> created = ClusterNode.HTTP.send(HttpRequest.newBuilder(
              URI.create(members.get(0).baseUrl() + "/v1/stream/" + s))
          .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode(), created.body());
    }
    List<StreamTraffic.Producer> producers = new ArrayList<>();
    List<StreamTraffic.Reader> readers = new ArrayList<>();
    for (String s : streams) {
      producers.add(new StreamTraffic.Producer(s, () -> members, Duration.ofMillis(20)).start());
      for (int r = 0; r < 2; r++) {
        readers.add(new StreamTraffic.Reader(s, () -> members, r + streams.indexOf(s)).start());
      }
    }
    StreamTraffic.Producer busy = producers.get(0);
    await(Duration.ofMinutes(1), "traffic flowing", () -> producers.stream().allMatch(p -> p.lastAcked() >= 20));

    ClusterNode holder = holderOf(busy.stream);
    List<StreamTraffic.Reader> busyReaders = readers.stream()
        .filter(r -> r.stream.equals(busy.stream)).toList();
    long mark = System.nanoTime();
    busyReaders.forEach(r -> r.mark(mark));
    int ackedAtAction = busy.lastAcked();
    action.apply(holder);
    members.remove(holder);

    await(Duration.ofMinutes(2), "the busy session accepting appends again",
        () -> busy.lastAcked() >= ackedAtAction + 20);
    for (StreamTraffic.Producer p : producers) {
      p.stopAndJoin();
    }
    await(Duration.ofMinutes(1), "readers catching up", () -> readers.stream().allMatch(r ->
        r.lines().size() >= producerOf(producers, r.stream).lastAcked() + 1));
    for (StreamTraffic.Reader r : readers) {
      r.stopAndJoin();
    }

    int acked = 0;
    for (StreamTraffic.Reader r : readers) {
      assertNull(r.failure(), () -> "reader failed: " + r.failure());
      StreamTraffic.Producer p = producerOf(producers, r.stream);
      List<String> lines = r.lines();
      for (int i = 0; i < lines.size(); i++) {
        assertEquals(r.stream + "-" + i, lines.get(i), "gap or duplicate in " + r.stream + " at line " + i);
      }
      assertTrue(lines.size() >= p.lastAcked() + 1, r.stream + " lost acknowledged lines");
    }
    for (StreamTraffic.Producer p : producers) {
      acked += p.lastAcked() + 1;
    }
    long failover = busyReaders.stream().map(StreamTraffic.Reader::firstDataAfterMark)
        .filter(java.util.Objects::nonNull).mapToLong(Long::longValue).min().orElseThrow();
    return new Outcome(TimeUnit.NANOSECONDS.toMillis(failover), acked);
  }

  private static StreamTraffic.Producer producerOf(List<StreamTraffic.Producer> producers, String stream) {
    return producers.stream().filter(p -> p.stream.equals(stream)).findFirst().orElseThrow();
  }

  /** The node whose shard region hosts the stream's shard (Pekko's default hash extractor). */
  private static ClusterNode holderOf(String stream) throws Exception {
    String shard = "\"shardId\":\"" + Math.abs(stream.hashCode() % NUMBER_OF_SHARDS) + "\"";
    for (ClusterNode n : members) {
      if (n.localShards("Session").contains(shard)) {
        return n;
      }
    }
    throw new AssertionError("no node reports shard " + shard);
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

  private static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        StringBuilder logs = new StringBuilder();
        members.forEach(n -> logs.append("\n--- ").append(n.name).append('\n').append(n.tail()));
        throw new AssertionError("timed out waiting for " + what + logs);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }
}
