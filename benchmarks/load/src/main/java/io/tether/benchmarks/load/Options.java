package io.tether.benchmarks.load;

import io.tether.benchmarks.load.client.LiveMode;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The command line of the load generator.
 *
 * <pre>
 *   --quick                  scaled-down scenario set (about 1-2 minutes for both targets)
 *   --targets peer,tether    which targets the run starts itself (default: both)
 *   --target name=url        measure an already running server instead (repeatable)
 *   --pid name=pid           its pid, for the memory figures
 *   --scenarios a,b          subset by id (peer-suite, token-streaming, token-ingest, throughput,
 *                            catch-up, fan-out, connections, sessions, long-session, recovery,
 *                            failover)
 *   --live sse|long-poll|ws  how subscribers read in every live scenario (default: sse for
 *                            token-streaming and fan-out, ws for connections; ws falls back to
 *                            sse on a target without the session WebSocket)
 *   --repo DIR               repository root (for ./tether dev); --out DIR results directory
 *   --tether-timeout-s N     how long to wait for ./tether dev to be ready (default 1500)
 *   --tether-ref REF         build and run Tether from commit REF (git archive into a temporary
 *                            directory) instead of the working tree
 *   --profile                record a JFR of Tether and a CPU profile of the peer into
 *                            results/profiles/ (profiling costs CPU: not for figures of record)
 *   --peer-file-handles N    stream files the peer's store keeps open (default 8192; 0 keeps
 *                            the store's own default of 100, under which the peer fails appends
 *                            as 404 once more than 100 streams are written at once)
 * </pre>
 */
public record Options(boolean quick, List<String> managed, Map<String, URI> external,
    Map<String, Long> pids, List<String> scenarios, LiveMode live, Path repo, Path out,
    int tetherTimeoutSeconds, boolean profile, String tetherRef, int peerFileHandles) {

  /** More than every stream a full run writes (the sessions scenario alone creates 5,000). */
  public static final int PEER_FILE_HANDLES = 8192;

  public static Options parse(String[] args) {
    boolean quick = false;
    List<String> managed = new ArrayList<>(List.of("peer", "tether"));
    boolean managedGiven = false;
    Map<String, URI> external = new LinkedHashMap<>();
    Map<String, Long> pids = new LinkedHashMap<>();
    List<String> scenarios = List.of();
    LiveMode live = null;
    Path repo = Path.of("").toAbsolutePath();
    Path out = null;
    int tetherTimeout = 1500;
    boolean profile = false;
    String tetherRef = null;
    int peerFileHandles = PEER_FILE_HANDLES;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> quick = true;
        case "--targets" -> {
          managed = List.of(value(args, ++i, a).split(","));
          managedGiven = true;
        }
        case "--target" -> {
          String[] kv = pair(value(args, ++i, a), a);
          external.put(kv[0], URI.create(kv[1]));
        }
        case "--pid" -> {
          String[] kv = pair(value(args, ++i, a), a);
          pids.put(kv[0], Long.parseLong(kv[1]));
        }
        case "--scenarios" -> scenarios = List.of(value(args, ++i, a).split(","));
        case "--live" -> live = LiveMode.parse(value(args, ++i, a));
        case "--repo" -> repo = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--out" -> out = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--tether-timeout-s" -> tetherTimeout = Integer.parseInt(value(args, ++i, a));
        case "--profile" -> profile = true;
        case "--tether-ref" -> tetherRef = value(args, ++i, a);
        case "--peer-file-handles" -> peerFileHandles = Integer.parseInt(value(args, ++i, a));
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (!external.isEmpty() && !managedGiven) {
      managed = List.of();
    }
    for (String m : managed) {
      if (!m.isBlank() && !m.equals("peer") && !m.equals("tether")) {
        throw new IllegalArgumentException("--targets knows peer and tether, not " + m);
      }
    }
    managed = managed.stream().filter(m -> !m.isBlank()).toList();
    if (out == null) {
      out = repo.resolve("benchmarks/results");
    }
    return new Options(quick, managed, external, pids, scenarios, live, repo, out, tetherTimeout,
        profile, tetherRef, peerFileHandles);
  }

  /** How token-streaming and fan-out subscribers read: {@code --live}, else SSE. */
  public LiveMode streamingLive() {
    return live == null ? LiveMode.SSE : live;
  }

  /**
   * How the connections scenario's idle subscribers connect: {@code --live}, else the session
   * WebSocket, the connection issue 8 asks about.
   */
  public LiveMode connectionsLive() {
    return live == null ? LiveMode.WS : live;
  }

  public OptionalLong pidOf(String target) {
    Long pid = pids.get(target);
    return pid == null ? OptionalLong.empty() : OptionalLong.of(pid);
  }

  /** The options as recorded in the results. */
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("scale", quick ? "quick" : "full");
    d.put("startedTargets", managed);
    d.put("externalTargets", external.toString());
    d.put("scenarios", scenarios.isEmpty() ? "all" : scenarios);
    d.put("live", live == null ? "default" : live.wire());
    d.put("liveStreaming", streamingLive().wire());
    d.put("liveConnections", connectionsLive().wire());
    d.put("profiling", profile);
    d.put("tetherSource", tetherRef == null ? "working tree" : "commit " + tetherRef);
    d.put("peerFileHandles", peerFileHandles == 0 ? "store default (100)" : peerFileHandles);
    return d;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static String[] pair(String s, String option) {
    int eq = s.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException(option + " expects name=value, not " + s);
    }
    return new String[] {s.substring(0, eq), s.substring(eq + 1)};
  }
}
