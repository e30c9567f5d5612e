package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.persistence.testkit.TestCassandra;
import java.io.InputStream;
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
 * and readers tail them through different nodes. The node whose Generator is in the middle of a
 * tool call of a harness run, and which holds one of the busy sessions, is killed with SIGKILL.
 * Clients only fail over to other nodes and resume from their last offset; at the end every
 * reader has every acknowledged line exactly once and in order, and the run finishes on a
 * survivor without repeating a completed tool call. (Graceful leaves, restarts and the failover
 * timeline of many sessions are {@link ClusterChaosIT}'s.)
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
    writeSlowScript();
    for (ClusterNode n : List.of(n1, n2, n3)) {
      members.add(n.start(env, nodeProps(n)));
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
  void readersLoseNothingAndTheRunFinishesWhenTheGeneratorsNodeIsKilled() throws Exception {
    Outcome killed = phase("kill", ClusterNode::kill, true);

    String report = String.format("failover: SIGKILL -> first event again after %d ms, %d acked "
            + "lines, 0 lost; harness run whose generator's node was killed mid-tool: %s%n",
        killed.failoverMillis, killed.ackedLines, killed.runSummary);
    System.out.print(report);
    Files.writeString(DIR.resolve("figures.txt"), report, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private record Outcome(long failoverMillis, int ackedLines, String runSummary) {}

  private interface NodeAction {
    void apply(ClusterNode node) throws Exception;
  }

  private static Outcome phase(String name, NodeAction action, boolean withRun) throws Exception {
    // With a run: the node to kill is the one whose Generator is running a tool of the run,
    // and the busy stream is one that lives on that same node.
    String runId = withRun ? startSlowRun() : null;
    ClusterNode target = null;
    if (withRun) {
      await(Duration.ofMinutes(2), "the generator running a tool",
          () -> runField(runId, "activeRole").equals("generator") && toolRunning(runId));
      target = holderOf("Generator", runId);
    }
    List<String> streams = new ArrayList<>();
    for (int i = 0; streams.size() < STREAMS || (target != null && !hostsAny(target, streams)); i++) {
      String s = name + "-" + i;
      HttpResponse<String> created = ClusterNode.HTTP.send(HttpRequest.newBuilder(
              URI.create(members.get(0).baseUrl() + "/v1/stream/" + s))
          .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode(), created.body());
      streams.add(s);
    }
    if (target != null) {
      ClusterNode host = target;
      String onTarget = streams.stream().filter(s -> hosts(host, s)).findFirst().orElseThrow();
      streams.remove(onTarget);
      streams.add(0, onTarget);
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

    if (withRun) {
      await(Duration.ofMinutes(2), "the generator in the middle of a tool call", () -> toolRunning(runId));
    }
    ClusterNode holder = target != null ? target : holderOf("Session", busy.stream);
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
    String runSummary = withRun ? checkRunFinished(runId) : "";
    return new Outcome(TimeUnit.NANOSECONDS.toMillis(failover), acked, runSummary);
  }

  /**
   * The demo script with the Generator's commands slowed down, so a kill lands in the middle of
   * one of its tools. (The Evaluator's run at full speed: the test waits for them to finish.)
   */
  private static void writeSlowScript() throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode script;
    try (InputStream in = ClusterFailoverIT.class.getResourceAsStream("/harness/scripts/demo.json")) {
      script = json.readTree(in);
    }
    ((ObjectNode) script).put("name", "slow");
    for (JsonNode role : List.of(script.path("roles").path("generator"))) {
      for (JsonNode turn : role) {
        for (JsonNode call : turn.path("toolCalls")) {
          if (call.path("name").asText().equals("run_command")) {
            ObjectNode args = (ObjectNode) call.path("arguments");
            args.put("command", "sleep 5; " + args.path("command").asText());
          }
        }
      }
    }
    Files.createDirectories(DIR.resolve("scripts"));
    json.writeValue(DIR.resolve("scripts").resolve("slow.json").toFile(), script);
  }

  private static List<String> nodeProps(ClusterNode node) {
    return List.of("-Dtether.harness.providers.scripted.directory=" + DIR.resolve("scripts"),
        "-Dtether.harness.workspace.root=" + DIR.resolve("workspaces-" + node.name));
  }

  private static String startSlowRun() throws Exception {
    HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(
            URI.create(members.get(0).baseUrl() + "/runs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"prompt\":\"A command-line tool that turns titles into URL slugs.\",\"model\":\"scripted:slow\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
    return new ObjectMapper().readTree(r.body()).path("runId").asText();
  }

  private static JsonNode describeRun(String runId) throws Exception {
    for (ClusterNode n : members) {
      try {
        HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(
            URI.create(n.baseUrl() + "/runs/" + runId)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return new ObjectMapper().readTree(r.body());
        }
      } catch (java.io.IOException nodeGone) {
        // ask the next node
      }
    }
    return new ObjectMapper().createObjectNode();
  }

  private static String runField(String runId, String field) {
    try {
      return describeRun(runId).path(field).asText("");
    } catch (Exception e) {
      return "";
    }
  }

  /** Whether the run's session shows a tool call of the generator without its result yet. */
  private static boolean toolRunning(String runId) {
    try {
      List<JsonNode> events = sessionEvents("run-" + runId);
      java.util.Set<String> open = new java.util.HashSet<>();
      for (JsonNode e : events) {
        String id = e.path("data").path("toolCallId").asText();
        if (e.path("type").asText().equals("tool.call") && e.path("producer").asText().equals("generator")
            && e.path("data").path("name").asText().equals("run_command")) {
          open.add(id);
        } else if (e.path("type").asText().equals("tool.result")) {
          open.remove(id);
        }
      }
      return !open.isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  private static List<JsonNode> sessionEvents(String session) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    String offset = "-1";
    ObjectMapper json = new ObjectMapper();
    for (int guard = 0; guard < 1000; guard++) {
      HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create(
          members.get(0).baseUrl() + "/v1/stream/" + session + "?offset=" + offset))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("reading " + session + ": " + r.statusCode());
      }
      json.readTree(r.body()).forEach(events::add);
      offset = r.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (r.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        return events;
      }
    }
    return events;
  }

  /**
   * The run, interrupted on the killed node, completes on the survivors: no tool call that had
   * completed is run again, and the session shows the interruption.
   */
  private static String checkRunFinished(String runId) throws Exception {
    await(Duration.ofMinutes(4), "the interrupted run completing on another node",
        () -> runField(runId, "phase").equals("completed"));
    // The run persists its end before it writes run.end into the session.
    await(Duration.ofMinutes(1), "run.end in the run's session", () -> {
      try {
        return sessionEvents("run-" + runId).stream()
            .anyMatch(e -> e.path("type").asText().equals("run.end"));
      } catch (Exception e) {
        return false;
      }
    });
    List<JsonNode> events = sessionEvents("run-" + runId);
    java.util.Map<String, Integer> okResults = new java.util.HashMap<>();
    long interruptions = 0;
    for (JsonNode e : events) {
      if (e.path("type").asText().equals("tool.result") && e.path("data").path("status").asText().equals("ok")) {
        okResults.merge(e.path("data").path("toolCallId").asText(), 1, Integer::sum);
      }
      if (e.path("type").asText().equals("run.interrupted")) {
        interruptions++;
      }
    }
    okResults.forEach((id, count) -> assertEquals(1, count, "tool call " + id + " completed twice"));
    assertTrue(interruptions >= 1, "the session must show the interruption");
    assertTrue(events.stream().anyMatch(e -> e.path("type").asText().equals("run.end")
        && e.path("data").path("status").asText().equals("complete")), "run.end with status complete");
    return "completed on a survivor, " + okResults.size() + " tool calls each completed once, "
        + interruptions + " interruption(s) shown in the session";
  }

  private static boolean hostsAny(ClusterNode node, List<String> streams) {
    return streams.stream().anyMatch(s -> hosts(node, s));
  }

  private static boolean hosts(ClusterNode node, String stream) {
    try {
      return node.localShards("Session").contains(
          "\"shardId\":\"" + Math.abs(stream.hashCode() % NUMBER_OF_SHARDS) + "\"");
    } catch (Exception e) {
      return false;
    }
  }

  private static StreamTraffic.Producer producerOf(List<StreamTraffic.Producer> producers, String stream) {
    return producers.stream().filter(p -> p.stream.equals(stream)).findFirst().orElseThrow();
  }

  /** The node whose shard region hosts the entity's shard (Pekko's default hash extractor). */
  private static ClusterNode holderOf(String entityType, String entityId) throws Exception {
    String shard = "\"shardId\":\"" + Math.abs(entityId.hashCode() % NUMBER_OF_SHARDS) + "\"";
    for (ClusterNode n : members) {
      if (n.localShards(entityType).contains(shard)) {
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
