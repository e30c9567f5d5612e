package io.tether.benchmarks.load.targets;

import io.tether.benchmarks.load.measure.LiveHeap;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The peer: the Durable Streams reference server ({@code @durable-streams/server}, version
 * pinned in {@code benchmarks/load/peer/package-lock.json}) in its file-backed mode, run by
 * {@code benchmarks/load/peer/server.mjs} on a free loopback port with a fresh data directory.
 * Installs the pinned packages with {@code npm ci} when {@code node_modules} is missing.
 * The pid measured is the Node process itself. Its store keeps {@code maxFileHandles} stream
 * files open (the store's default, 100, fails appends as 404 once more streams than that are
 * written at once; see {@code server.mjs}). Its live heap is read by asking the script on stdin
 * to collect and report {@code process.memoryUsage()}.
 */
public final class PeerServer implements ManagedTarget {
  private final Path peerDir;
  private final Path log;
  private final int longPollTimeoutMs;
  private final int timeoutSeconds;
  private final int port;
  private final Path dataDir;
  private final Map<String, Object> info;
  private final Path profiles;
  private final int maxFileHandles;
  private volatile CompletableFuture<String> heapReport;
  private Process process;
  private Target target;

  private PeerServer(Path peerDir, Path log, int longPollTimeoutMs, int timeoutSeconds, int port,
      Path dataDir, Path profiles, int maxFileHandles) {
    this.profiles = profiles;
    this.maxFileHandles = maxFileHandles;
    this.peerDir = peerDir;
    this.log = log;
    this.longPollTimeoutMs = longPollTimeoutMs;
    this.timeoutSeconds = timeoutSeconds;
    this.port = port;
    this.dataDir = dataDir;
    this.info = new LinkedHashMap<>();
    info.put("server", "@durable-streams/server " + installedVersion(peerDir) + " (Node "
        + nodeVersion() + "), DurableStreamTestServer, file-backed (dataDir), compression off");
    info.put("longPollTimeoutMs", longPollTimeoutMs);
    info.put("maxFileHandles", maxFileHandles > 0 ? maxFileHandles
        : "store default (100): appends fail as 404 above 100 streams written at once");
  }

  /**
   * Starts the peer and waits until it listens; fails after {@code timeoutSeconds}. With a
   * {@code profiles} directory, Node writes a CPU profile there when the peer stops.
   * {@code maxFileHandles} 0 keeps the store's default.
   */
  public static PeerServer start(Path peerDir, Path logDir, int longPollTimeoutMs,
      int timeoutSeconds, Path profiles, int maxFileHandles) throws Exception {
    NpmInstall.ensure(peerDir, logDir.resolve("peer-npm-ci.log"));
    int port = FreePorts.pick(20000, 30000, p -> new int[0]);
    Path dataDir = Files.createTempDirectory("tether-bench-peer-");
    Path log = logDir.resolve("peer.log");
    Files.deleteIfExists(log);
    PeerServer server = new PeerServer(peerDir, log, longPollTimeoutMs, timeoutSeconds, port,
        dataDir, profiles, maxFileHandles);
    server.launch();
    return server;
  }

  private void launch() throws Exception {
    List<String> command = new ArrayList<>(List.of("node", "--expose-gc"));
    if (profiles != null) {
      command.addAll(List.of("--cpu-prof", "--cpu-prof-dir=" + profiles));
    }
    command.addAll(List.of("server.mjs", Integer.toString(port), dataDir.toString(),
        Integer.toString(longPollTimeoutMs), Integer.toString(maxFileHandles)));
    process = new ProcessBuilder(command)
        .directory(peerDir.toFile())
        .redirectErrorStream(true)
        .start();
    CompletableFuture<Void> listening = new CompletableFuture<>();
    Process p = process;
    Thread pump = new Thread(() -> copyOutput(p, log, listening, this::onLine), "peer-log");
    pump.setDaemon(true);
    pump.start();
    try {
      listening.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException("peer did not start (see " + log + ")", e);
    }
    info.put("pid", process.pid());
    target = new Target("peer", URI.create("http://127.0.0.1:" + port),
        OptionalLong.of(process.pid()), info);
  }

  /** Completes a pending live-heap request with the script's {@code HEAP {json}} line. */
  private void onLine(String line) {
    CompletableFuture<String> pending = heapReport;
    if (line.startsWith("HEAP ") && pending != null) {
      pending.complete(line.substring(5));
    }
  }

  /**
   * Asks the script to run a full collection ({@code node --expose-gc}) and report
   * {@code process.memoryUsage()}; the live heap is V8's used heap plus the memory of Buffers
   * outside it ({@code external}, where Node keeps stream data a JVM keeps on its heap).
   */
  @Override
  public java.util.Optional<LiveHeap> liveHeap() {
    CompletableFuture<String> pending = new CompletableFuture<>();
    heapReport = pending;
    try {
      var stdin = process.getOutputStream();
      stdin.write("heap\n".getBytes(StandardCharsets.UTF_8));
      stdin.flush();
      String json = pending.get(30, TimeUnit.SECONDS);
      var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
      if (!m.path("collected").asBoolean()) {
        return java.util.Optional.empty();
      }
      long used = m.path("heapUsed").asLong();
      long external = m.path("external").asLong();
      return java.util.Optional.of(new LiveHeap(used + external, String.format(
          "Node heapUsed %,d + external %,d bytes after gc() (process.memoryUsage)", used,
          external)));
    } catch (Exception e) {
      return java.util.Optional.empty();
    } finally {
      heapReport = null;
    }
  }

  private static void copyOutput(Process process, Path log, CompletableFuture<Void> listening,
      java.util.function.Consumer<String> lines) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
        var out = Files.newBufferedWriter(log, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND)) {
      String line;
      while ((line = in.readLine()) != null) {
        out.write(line);
        out.newLine();
        out.flush();
        if (line.startsWith("READY")) {
          listening.complete(null);
        }
        lines.accept(line);
      }
    } catch (IOException e) {
      listening.completeExceptionally(e);
    }
    listening.completeExceptionally(new IllegalStateException("peer exited"));
  }

  private static String installedVersion(Path peerDir) {
    try {
      String json = Files.readString(
          peerDir.resolve("node_modules/@durable-streams/server/package.json"));
      var m = java.util.regex.Pattern.compile("\"version\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
      return m.find() ? m.group(1) : "?";
    } catch (IOException e) {
      return "?";
    }
  }

  private static String nodeVersion() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return v;
    } catch (Exception e) {
      return "?";
    }
  }

  @Override
  public Target target() {
    return target;
  }

  @Override
  public Target restart() throws Exception {
    stop();
    launch();
    return target;
  }

  private void stop() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
    DataDirs.delete(dataDir);
  }
}
