package io.tether.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.persistence.testkit.TestCassandra;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console end to end, in a real browser: starts the packaged {@code tether dev} as a
 * process, then runs {@code src/test/js/console/console.e2e.mjs} with Node.js, which drives
 * Debian's headless Chromium through {@code playwright-core} (pinned in that folder's
 * {@code package.json}, lock committed) and plays the agent over the Durable Streams HTTP API.
 * The scenarios: two pages on one session show the same text; dropped sockets and a node
 * killed (SIGKILL) and restarted mid-stream end with the full text and no duplicate; the Stop
 * button cancels and the agent's output stops at the reported fence; a scripted harness run
 * shows its sprints and scores on the dashboard. Screenshots of both views land in
 * {@code target/console-screenshots}.
 *
 * <p>Setup is the project's own: {@code install-chromium.sh} installs Debian's {@code chromium}
 * when {@code /usr/bin/chromium} is missing (as root, as in CI), and {@code npm ci} installs the
 * pinned packages when {@code node_modules} is missing. The script asks for the node restart by
 * printing {@code @@restart-node}; this test kills the node, starts it again on the same home
 * and answers {@code @@node-ready} on the script's standard input.
 *
 * <p>The node runs on the suite's Cassandra ({@code TETHER_CASSANDRA_CONTACT_POINTS}, a keyspace
 * of its own), not one of its own: the restart is the node's alone, and two Cassandra starts
 * are saved. A dev node's own Cassandra across a crash is {@link DevNodeCrashIT}'s.
 */
class ConsoleBrowserIT {
  private static final Logger log = LoggerFactory.getLogger(ConsoleBrowserIT.class);

  @Test
  void consoleShowsLiveSessionsResumesExactlyStopsAtTheFenceAndShowsRuns() throws Exception {
    Path js = Path.of(System.getProperty("tether.project.root"), "runtime", "src", "test", "js",
        "console");
    Path work = Path.of(System.getProperty("tether.test.work-dir"));
    Files.createDirectories(work);
    run(js, List.of("bash", "install-chromium.sh"), work.resolve("console-chromium-install.log"), 15);
    if (!Files.isDirectory(js.resolve("node_modules"))) {
      run(js, List.of("npm", "ci", "--no-audit", "--no-fund"), work.resolve("console-npm.log"), 10);
    }
    Path shots = work.getParent().resolve("console-screenshots");
    Files.createDirectories(shots);
    Path home = work.resolve("console-" + System.nanoTime());
    String keyspace = TestCassandra.keyspaceFor("ConsoleBrowserIT");
    try (DevProcess node = new DevProcess(home, DevProcess.freeHttpPort())
        // The harness's browser (installed by the actors module's build), for the dashboard's
        // browser-graded run.
        .env("TETHER_BROWSER_DIR", System.getProperty("tether.harness.mcp.browser.dir", ""))
        .env("TETHER_CASSANDRA_CONTACT_POINTS", TestCassandra.get().contactPoint())
        .env("TETHER_CASSANDRA_KEYSPACE", keyspace)
        .env("TETHER_CASSANDRA_SNAPSHOT_KEYSPACE", keyspace + "_snap")
        .start(Duration.ofMinutes(3))) {
      assertFalse(Files.exists(home.resolve("cassandra")),
          "tether dev started a Cassandra of its own beside TETHER_CASSANDRA_CONTACT_POINTS");
      assertTrue(Files.readString(node.log()).contains("TETHER_CASSANDRA_CONTACT_POINTS: yours"),
          node.tail());
      ProcessBuilder builder = new ProcessBuilder("node", "console.e2e.mjs", node.baseUrl(),
          shots.toString()).directory(js.toFile()).redirectErrorStream(true);
      builder.environment().put("TETHER_CONSOLE_RESTART", "1");
      Process script = builder.start();
      List<String> output = new ArrayList<>();
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(
              script.getInputStream(), StandardCharsets.UTF_8));
          Writer answers = script.outputWriter(StandardCharsets.UTF_8)) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          log.info("console e2e: {}", line);
          output.add(line);
          if (line.trim().equals("@@restart-node")) {
            restart(node, output);
            answers.write("@@node-ready\n");
            answers.flush();
          }
        }
      }
      if (!script.waitFor(2, TimeUnit.MINUTES)) {
        script.destroyForcibly();
      }
      String report = String.join("\n", output);
      Files.writeString(work.resolve("console-e2e.log"), report);
      assertEquals(0, script.exitValue(), "the console's browser tests failed:\n" + report
          + "\nnode log tail:\n" + node.tail());
    }
  }

  private static void restart(DevProcess node, List<String> output) throws Exception {
    log.info("console e2e: killing the node (SIGKILL) mid-stream");
    node.kill();
    node.start(Duration.ofMinutes(3));
    output.add("(the node was killed with SIGKILL and started again on the same home)");
    log.info("console e2e: the node is back");
  }

  private static void run(Path dir, List<String> command, Path logFile, int minutes)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(logFile.toFile()).start();
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException(command + " did not finish in " + minutes + " minutes");
    }
    assertEquals(0, p.exitValue(), command + " failed:\n" + Files.readString(logFile));
  }
}
