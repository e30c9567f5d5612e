package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.LiveMode;
import io.tether.benchmarks.load.client.StreamClient;
import io.tether.benchmarks.load.measure.LiveHeap;
import io.tether.benchmarks.load.targets.Target;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a scenario runs with: the target, a request client, several HTTP clients to spread live
 * readers over (each has its own selector thread), a name prefix unique to this run and target,
 * a way to restart the target (only for targets the run started), whether the target serves
 * Tether's session WebSocket ({@code noSessionSocket} is null when it does, else why not), the
 * source tree of a Tether the run started ({@code tetherRoot}, null otherwise: the failover
 * scenario starts its own three-node cluster from it), the directory for server logs, and a
 * way to read the server's live heap after a full collection ({@code heap}, empty when it cannot
 * be read).
 */
public record ScenarioContext(Target target, StreamClient client, List<HttpClient> liveClients,
    String prefix, Restarter restarter, String noSessionSocket, Path tetherRoot, Path logs,
    Supplier<Optional<LiveHeap>> heap) {

  /** Restarts the target on the same port with the same data; returns it as it now runs. */
  @FunctionalInterface
  public interface Restarter {
    Target restart() throws Exception;
  }

  /** The HTTP client for the {@code i}-th live reader. */
  public HttpClient liveClient(int i) {
    return liveClients.get(i % liveClients.size());
  }

  /** A stream name unique to this run, scenario and index. */
  public String stream(String scenario, Object index) {
    return prefix + "-" + scenario + "-" + index;
  }

  /**
   * The mode this target's subscribers use for {@code requested}: the session WebSocket falls
   * back to SSE on a target without one (the peer), which {@link #liveNote} records.
   */
  public LiveMode live(LiveMode requested) {
    return requested == LiveMode.WS && noSessionSocket != null ? LiveMode.SSE : requested;
  }

  /** One line for the results: how this target's subscribers read, and why, if not as asked. */
  public String liveNote(LiveMode requested) {
    LiveMode used = live(requested);
    if (used != requested) {
      return "subscribers used SSE, not the session WebSocket: this target has none ("
          + noSessionSocket + ")";
    }
    return switch (used) {
      case WS -> "subscribers used the session WebSocket (/v1/sessions/<id>/ws, resume from the "
          + "tail, delta granularity, one device per connection)";
      case SSE -> "subscribers used SSE (GET ?live=sse)";
      case LONG_POLL -> "subscribers used long-poll (GET ?live=long-poll)";
    };
  }
}
