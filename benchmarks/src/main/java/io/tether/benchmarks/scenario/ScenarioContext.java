package io.tether.benchmarks.scenario;

import io.tether.benchmarks.client.LiveMode;
import io.tether.benchmarks.client.StreamClient;
import io.tether.benchmarks.targets.Target;
import java.net.http.HttpClient;
import java.util.List;

/**
 * What a scenario runs with: the target, a request client, several HTTP clients to spread live
 * readers over (each has its own selector thread), the live mode, a name prefix unique to this
 * run and target, and a way to restart the target (only for targets the run started).
 */
public record ScenarioContext(Target target, StreamClient client, List<HttpClient> liveClients,
    LiveMode live, String prefix, Restarter restarter) {

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
}
