package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One {@code tether dev} node, started as a user starts it, with distinctive provider API keys
 * in its environment, JSON logs ({@code TETHER_LOG_FORMAT=json}) and the Anthropic provider
 * pointed at a local stub speaking Anthropic's streaming wire format ({@link AnthropicStub}).
 * Over HTTP it runs one harness run whose every role calls the stub, which tempts every leak
 * it can (error bodies and stream errors that echo the key, a Generator command that prints its
 * environment and tries the node's through {@code /proc/$PPID/environ} and every other
 * {@code /proc/<pid>/environ}); then it freezes the node's Cassandra (SIGSTOP) under an append
 * so that one session's journal write fails and the session logs its restart.
 *
 * <p>Proved afterwards, against everything the node wrote: the key reached the provider with
 * every call and nothing else (no request body, no log line, no event of the run's session, no
 * workspace file, no REST answer, no row of any journal or snapshot table read directly from
 * Cassandra, no file under the node's home), and the JSON log lines a session entity and a run
 * (its Run and role entities) write carry {@code sessionId} and {@code runId} in the MDC.
 */
class SecretsAndLogContextIT {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ANTHROPIC_KEY =
      "sk-ant-canary-" + UUID.randomUUID().toString().replace("-", "");
  private static final String OPENAI_KEY =
      "sk-oai-canary-" + UUID.randomUUID().toString().replace("-", "");
  private static final String PROBE_SESSION = "mdc-probe";
  private static final String RESTART_LINE =
      "Session " + PROBE_SESSION + " restarts after a journal failure";
  private static final Set<String> TERMINAL =
      Set.of("completed", "failed", "cancelled", "budget_exhausted", "lost");

  private static AnthropicStub stub;
  private static DevProcess node;
  private static Path home;
  private static String runId;
  private static JsonNode finalRun;
  /** What the node answered over HTTP after the run, by request. */
  private static final Map<String, String> answers = new LinkedHashMap<>();
  /** Every column value of every row of the node's own keyspaces, by table. */
  private static final Map<String, List<byte[]>> journal = new LinkedHashMap<>();
  private static String nodeLog;
  private static final List<JsonNode> logLines = new ArrayList<>();

  @BeforeAll
  static void runAHarnessRunAndFailOneJournalWrite() throws Exception {
    stub = new AnthropicStub();
    home = Path.of(System.getProperty("tether.test.work-dir"), "secrets-" + System.nanoTime());
    int cqlPort = DevProcess.freePort();
    node = new DevProcess(home, DevProcess.freeHttpPort())
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("TETHER_LOG_FORMAT", "json")
        .env("TETHER_CASSANDRA_PORT", Integer.toString(cqlPort))
        .env("TETHER_WORKSPACE_ROOT", home.resolve("workspaces").toString())
        .systemProperty("tether.harness.providers.anthropic.base-url", stub.baseUrl())
        .start(Duration.ofMinutes(4));
    try {
      runId = runToItsEnd();
      failOneJournalWrite();
      for (String path : List.of("/runs/" + runId, "/runs", "/runs/" + runId + "/files",
          "/v1/sessions/run-" + runId, "/v1/sessions/" + PROBE_SESSION, "/ready")) {
        answers.put("GET " + path, get(path).body());
      }
      HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(
              URI.create(node.managementUrl() + "/metrics")).timeout(Duration.ofSeconds(30))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, metrics.statusCode(), "metrics are served on the management port");
      answers.put("GET management /metrics", metrics.body());
      answers.put("stream run-" + runId, readStream("run-" + runId));
      answers.put("stream " + PROBE_SESSION, readStream(PROBE_SESSION));
      readEveryRow(cqlPort);
    } finally {
      // SIGTERM: the node leaves and its log is complete, then Cassandra drains.
      node.stop(Duration.ofMinutes(2));
    }
    nodeLog = Files.readString(node.log());
    for (String line : nodeLog.split("\n")) {
      if (line.startsWith("{")) {
        logLines.add(JSON.readTree(line));
      }
    }
  }

  @AfterAll
  static void stopEverything() throws Exception {
    if (node != null) {
      node.close();
    }
    if (stub != null) {
      stub.close();
    }
  }

  @Test
  void anApiKeyReachesItsProviderAndNoLogSessionWorkspaceOrJournal() throws Exception {
    // The path was exercised: every role called the stub, every call carried the key.
    List<AnthropicStub.Received> calls = stub.received();
    for (String role : List.of("planner", "generator", "evaluator")) {
      assertTrue(calls.stream().anyMatch(c -> c.role().equals(role)), role + " never called");
    }
    for (AnthropicStub.Received call : calls) {
      assertEquals(ANTHROPIC_KEY, call.apiKey(), "a " + call.role() + " call without the key");
    }
    assertEquals("completed", finalRun.path("phase").asText(), finalRun.toString());
    // The Generator's command ran with a scrubbed environment, in the bubblewrap sandbox (its
    // own PID namespace, so /proc holds only its own processes), and its output went back to
    // the model: the tool result the stub received shows the empty variable.
    assertTrue(nodeLog.contains("Tools run in a bubblewrap sandbox"),
        "tools ran unconfined on this machine");
    assertTrue(calls.stream().anyMatch(c -> c.body().contains("leak-probe-done")
        && c.body().contains("anthropic=[]")), "the command's output never reached the model");
    // The tempting errors were recorded, so their (redacted) text was really written.
    String session = answers.get("stream run-" + runId);
    assertTrue(session.contains(AnthropicStub.AUTH_ERROR_TEXT), "no 401 recorded in the session");
    assertTrue(session.contains(AnthropicStub.STREAM_ERROR_TEXT),
        "no stream error recorded in the session");
    assertTrue(session.contains("leak-probe-done"), "no command output in the session");
    assertTrue(journal.getOrDefault("tether.messages", List.of()).size() > 50,
        "the journal table was not read: " + journal.keySet());
    assertTrue(journal.values().stream().flatMap(List::stream)
            .anyMatch(v -> contains(v, AnthropicStub.AUTH_ERROR_TEXT)),
        "the model call's failure was not journaled");

    List<String> leaks = new ArrayList<>();
    for (String key : List.of(ANTHROPIC_KEY, OPENAI_KEY)) {
      List<String> forms = forms(key);
      for (AnthropicStub.Received call : calls) {
        if (containsAny(call.body(), forms)) {
          leaks.add("a request body of the " + call.role() + " sent to the provider");
        }
      }
      answers.forEach((what, body) -> {
        if (containsAny(body, forms)) {
          leaks.add(what);
        }
      });
      journal.forEach((table, values) -> values.forEach(v -> {
        if (containsAny(v, forms)) {
          leaks.add("a row of " + table);
        }
      }));
      if (containsAny(nodeLog, forms)) {
        leaks.add("the node's log: " + nodeLog.lines().filter(l -> containsAny(l, forms))
            .findFirst().orElse(""));
      }
      try (Stream<Path> files = Files.walk(home)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          if (containsAny(Files.readAllBytes(f), forms)) {
            leaks.add("the file " + home.relativize(f));
          }
        }
      }
    }
    assertEquals(List.of(), leaks, "an API key leaked");
  }

  @Test
  void jsonLogLinesOfASessionAndARunCarryTheirIdsInTheMdc() {
    assertFalse(logLines.isEmpty(), "no JSON log lines; log starts:\n"
        + nodeLog.substring(0, Math.min(2000, nodeLog.length())));
    List<JsonNode> runLines = logLines.stream()
        .filter(l -> l.path("mdc").path("pekkoSource").asText().endsWith("/" + runId)
            || l.path("formattedMessage").asText().contains(runId))
        .toList();
    List<String> missing = new ArrayList<>();
    for (JsonNode line : runLines) {
      if (!runId.equals(line.path("mdc").path("runId").asText(null))
          && fromEntity(line, runId)) {
        missing.add("runId: " + line);
      }
    }
    assertTrue(runLines.stream().anyMatch(l -> message(l).startsWith("Run " + runId + " started")),
        "no line says the run started");
    assertTrue(runLines.stream().anyMatch(l -> message(l).startsWith("Run " + runId + " ended")),
        "no line says the run ended");
    assertTrue(runLines.stream().anyMatch(l -> message(l).contains("model call")
            && message(l).contains("failed")),
        "no line says the planner's model call failed");

    List<JsonNode> sessionLines = logLines.stream()
        .filter(l -> l.path("mdc").path("pekkoSource").asText().endsWith("/" + PROBE_SESSION)
            || message(l).startsWith(RESTART_LINE))
        .toList();
    assertTrue(sessionLines.stream().anyMatch(l -> message(l).startsWith(RESTART_LINE)),
        "the session never logged its journal failure");
    for (JsonNode line : sessionLines) {
      if (!PROBE_SESSION.equals(line.path("mdc").path("sessionId").asText(null))) {
        missing.add("sessionId: " + line);
      }
    }
    assertEquals(List.of(), missing, "log lines of an entity without its id in the MDC");
  }

  private static String message(JsonNode line) {
    return line.path("formattedMessage").asText("");
  }

  /** Whether a line was written by one of the run's entities (Run, Planner, Generator...). */
  private static boolean fromEntity(JsonNode line, String id) {
    String source = line.path("mdc").path("pekkoSource").asText("");
    return source.endsWith("/" + id) || message(line).startsWith("Run " + id);
  }

  // ---------------------------------------------------------------- the scenario

  private static String runToItsEnd() throws Exception {
    HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(
            URI.create(node.baseUrl() + "/runs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("""
            {"prompt": "A command-line tool that turns titles into URL slugs.",
             "model": "anthropic:claude-stub",
             "prices": {"anthropic:claude-stub": {"input": 3, "output": 15}},
             "policy": {"sprints": false, "contractRounds": 0, "attemptsPerSprint": 1}}
            """)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    String id = JSON.readTree(created.body()).path("runId").asText();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline) {
      HttpResponse<String> view = get("/runs/" + id);
      if (view.statusCode() == 200) {
        finalRun = JSON.readTree(view.body());
        if (TERMINAL.contains(finalRun.path("phase").asText())) {
          return id;
        }
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new AssertionError("the run did not end: " + finalRun + "\n" + node.tail());
  }

  /**
   * Freezes Cassandra while one session appends, so its journal write times out: the session
   * refuses the batch (503) and restarts, which it logs. Cassandra is resumed whatever happens.
   */
  private static void failOneJournalWrite() throws Exception {
    HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create(
            node.baseUrl() + "/v1/stream/" + PROBE_SESSION))
        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.noBody())
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, put.statusCode(), put.body());
    assertEquals(204, append(PROBE_SESSION, "{\"n\":0}").statusCode());
    String pid = Files.readString(home.resolve("cassandra").resolve("cassandra.pid")).trim();
    signal("STOP", pid);
    try {
      HttpResponse<String> refused = append(PROBE_SESSION, "{\"n\":1}");
      assertEquals(503, refused.statusCode(), refused.body());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!Files.readString(node.log()).contains(RESTART_LINE)) {
        assertTrue(System.nanoTime() < deadline, "the session did not restart:\n" + node.tail());
        TimeUnit.MILLISECONDS.sleep(250);
      }
    } finally {
      signal("CONT", pid);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (append(PROBE_SESSION, "{\"n\":2}").statusCode() != 204) {
      assertTrue(System.nanoTime() < deadline, "appends did not recover:\n" + node.tail());
      TimeUnit.MILLISECONDS.sleep(500);
    }
  }

  private static void signal(String signal, String pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
    assertEquals(0, kill.waitFor(), "kill -" + signal + " " + pid);
  }

  private static HttpResponse<String> append(String stream, String json) throws Exception {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/v1/stream/" + stream))
          .timeout(Duration.ofSeconds(60))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (java.net.http.HttpTimeoutException e) {
      throw new AssertionError("an append got no answer within 60 s", e);
    }
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + path))
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A stream read in full from offset -1, page after page. */
  private static String readStream(String id) throws Exception {
    StringBuilder all = new StringBuilder();
    String offset = "-1";
    for (int page = 0; page < 10_000; page++) {
      HttpResponse<String> r = get("/v1/stream/" + id + "?offset=" + offset);
      assertEquals(200, r.statusCode(), r.body());
      all.append(r.body()).append('\n');
      offset = r.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (r.headers().firstValue("Stream-Up-To-Date").isPresent()) {
        return all.toString();
      }
    }
    throw new AssertionError("the stream " + id + " never reported Stream-Up-To-Date");
  }

  /** Every column of every row of every table in the node's keyspaces (not Cassandra's own). */
  private static void readEveryRow(int cqlPort) {
    try (CqlSession cql = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", cqlPort))
        .withLocalDatacenter("datacenter1").build()) {
      List<String> tables = new ArrayList<>();
      for (Row t : cql.execute("SELECT keyspace_name, table_name FROM system_schema.tables")) {
        String keyspace = t.getString("keyspace_name");
        if (!keyspace.startsWith("system")) {
          tables.add(keyspace + "." + t.getString("table_name"));
        }
      }
      for (String table : tables) {
        List<byte[]> values = new ArrayList<>();
        for (Row row : cql.execute(SimpleStatement.newInstance("SELECT * FROM " + table)
            .setPageSize(500).setTimeout(Duration.ofSeconds(30)))) {
          for (int i = 0; i < row.getColumnDefinitions().size(); i++) {
            ByteBuffer raw = row.getBytesUnsafe(i);
            if (raw != null) {
              byte[] bytes = new byte[raw.remaining()];
              raw.duplicate().get(bytes);
              values.add(bytes);
            }
          }
        }
        journal.put(table, values);
      }
    }
  }

  // ---------------------------------------------------------------- searching

  /**
   * The forms a key could take where it is stored: itself, and the middle of its base64
   * encoding at each of the three alignments it can have inside a longer byte string.
   */
  private static List<String> forms(String key) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    List<String> forms = new ArrayList<>(List.of(key));
    for (int shift = 0; shift < 3; shift++) {
      byte[] shifted = new byte[shift + bytes.length];
      System.arraycopy(bytes, 0, shifted, shift, bytes.length);
      String encoded = Base64.getEncoder().encodeToString(shifted);
      forms.add(encoded.substring(shift == 0 ? 0 : 4, encoded.length() - 4));
    }
    return forms;
  }

  private static boolean containsAny(String text, List<String> forms) {
    return forms.stream().anyMatch(text::contains);
  }

  private static boolean containsAny(byte[] bytes, List<String> forms) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    if (containsAny(text, forms)) {
      return true;
    }
    if (bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
      try (GZIPInputStream gz = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
        return containsAny(new String(gz.readAllBytes(), StandardCharsets.ISO_8859_1), forms);
      } catch (IOException notGzip) {
        return false;
      }
    }
    return false;
  }

  private static boolean contains(byte[] bytes, String text) {
    return new String(bytes, StandardCharsets.ISO_8859_1).contains(text);
  }
}
