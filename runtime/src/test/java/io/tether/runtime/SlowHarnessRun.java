package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A harness run on a test cluster, driven and observed over the nodes' HTTP API only: the demo
 * script with the Generator's commands slowed down (each {@code run_command} sleeps 5 s first),
 * so that a node can be killed while the Generator is in the middle of a tool call, and the
 * checks that the run then finished on a survivor without running a completed tool call again.
 */
final class SlowHarnessRun {
  static final String SCRIPT = "slow";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Supplier<List<ClusterNode>> members;
  private final int numberOfShards;
  final String runId;

  private SlowHarnessRun(Supplier<List<ClusterNode>> members, int numberOfShards, String runId) {
    this.members = members;
    this.numberOfShards = numberOfShards;
    this.runId = runId;
  }

  /** Writes the slowed script into {@code directory}, for the nodes' scripted provider. */
  static void writeScript(Path directory) throws IOException {
    JsonNode script;
    try (InputStream in = SlowHarnessRun.class.getResourceAsStream("/harness/scripts/demo.json")) {
      script = JSON.readTree(in);
    }
    ((ObjectNode) script).put("name", SCRIPT);
    for (JsonNode turn : script.path("roles").path("generator")) {
      for (JsonNode call : turn.path("toolCalls")) {
        if (call.path("name").asText().equals("run_command")) {
          ObjectNode args = (ObjectNode) call.path("arguments");
          args.put("command", "sleep 5; " + args.path("command").asText());
        }
      }
    }
    Files.createDirectories(directory);
    JSON.writeValue(directory.resolve(SCRIPT + ".json").toFile(), script);
  }

  /** The system properties a node needs to run the slowed script in a workspace of its own. */
  static List<String> nodeProperties(Path scripts, Path workspaces) {
    return List.of("-Dtether.harness.providers.scripted.directory=" + scripts,
        "-Dtether.harness.workspace.root=" + workspaces);
  }

  /** Starts a run of the slowed script through the first member. */
  static SlowHarnessRun start(Supplier<List<ClusterNode>> members, int numberOfShards)
      throws Exception {
    HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(
            URI.create(members.get().get(0).baseUrl() + "/runs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"A command-line tool that turns"
            + " titles into URL slugs.\",\"model\":\"scripted:" + SCRIPT + "\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
    return new SlowHarnessRun(members, numberOfShards, JSON.readTree(r.body()).path("runId").asText());
  }

  /** Waits until the Generator is in the middle of one of its commands. */
  void awaitGeneratorMidTool(Duration timeout) throws InterruptedException {
    await(timeout, "the generator of run " + runId + " running a tool",
        () -> field("activeRole").equals("generator") && generatorToolRunning());
  }

  /** Whether the run's session shows a command of the Generator without its result yet. */
  boolean generatorToolRunning() {
    try {
      Set<String> open = new HashSet<>();
      for (JsonNode e : sessionEvents()) {
        String id = e.path("data").path("toolCallId").asText();
        if (e.path("type").asText().equals("tool.call")
            && e.path("producer").asText().equals("generator")
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

  /** The member whose shard region hosts the run's Generator (Pekko's default hash extractor). */
  ClusterNode generatorNode() throws Exception {
    String shard = "\"shardId\":\"" + Math.abs(runId.hashCode() % numberOfShards) + "\"";
    for (ClusterNode n : members.get()) {
      if (n.localShards("Generator").contains(shard)) {
        return n;
      }
    }
    throw new AssertionError("no member reports the Generator's shard " + shard);
  }

  /**
   * Waits for the interrupted run to complete on the survivors and checks its session: no tool
   * call that had completed ran again, the interruption is shown, and the run ended complete.
   * Returns a summary for the report.
   */
  String checkFinishedAfterInterruption() throws Exception {
    await(Duration.ofMinutes(4), "the interrupted run completing on another node",
        () -> field("phase").equals("completed"));
    // The run persists its end before it writes run.end into the session.
    await(Duration.ofMinutes(1), "run.end in the run's session", () -> {
      try {
        return sessionEvents().stream().anyMatch(e -> e.path("type").asText().equals("run.end"));
      } catch (Exception e) {
        return false;
      }
    });
    List<JsonNode> events = sessionEvents();
    Map<String, Integer> okResults = new HashMap<>();
    long interruptions = 0;
    for (JsonNode e : events) {
      if (e.path("type").asText().equals("tool.result")
          && e.path("data").path("status").asText().equals("ok")) {
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

  private String field(String name) {
    for (ClusterNode n : members.get()) {
      try {
        HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(
                URI.create(n.baseUrl() + "/runs/" + runId)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return JSON.readTree(r.body()).path(name).asText("");
        }
      } catch (Exception nodeGoneOrBusy) {
        // ask the next member
      }
    }
    return "";
  }

  private List<JsonNode> sessionEvents() throws Exception {
    List<JsonNode> events = new ArrayList<>();
    String offset = "-1";
    for (int guard = 0; guard < 1000; guard++) {
      HttpResponse<String> r = ClusterNode.HTTP.send(HttpRequest.newBuilder(URI.create(
              members.get().get(0).baseUrl() + "/v1/stream/run-" + runId + "?offset=" + offset))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("reading run-" + runId + ": " + r.statusCode());
      }
      JSON.readTree(r.body()).forEach(events::add);
      offset = r.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (r.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        return events;
      }
    }
    return events;
  }

  private static void await(Duration timeout, String what, BooleanSupplier condition)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }
}
