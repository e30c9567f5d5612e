package io.tether.actors.harness.workspace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP GET against an app a role started ({@code http_probe}). Sandboxed, the request is
 * made by {@code curl} inside the run's sandbox and network namespace, so it reaches the run's
 * own processes and nothing of the node (its HTTP port, metrics, Cassandra, remoting), nor
 * anything beyond loopback unless the run has egress. The URL must also name loopback unless
 * configured otherwise (resolved first; every address must be loopback), and redirects are not
 * followed. Unconfined, the node's own HTTP client makes the request. Blocking: call it on the
 * tool dispatcher.
 */
public final class HttpProbe {

  private static final String STATUS = "tether-probe-status=";

  private final Duration timeout;
  private final int maxBodyBytes;
  private final boolean loopbackOnly;
  private final Sandbox sandbox;
  private final HttpClient client;

  /** With the default sandbox. */
  public HttpProbe(Duration timeout, int maxBodyBytes, boolean loopbackOnly) {
    this(timeout, maxBodyBytes, loopbackOnly, Sandbox.defaults());
  }

  /**
   * @param timeout connect and response timeout
   * @param maxBodyBytes how much of the body is returned
   * @param loopbackOnly whether only loopback addresses may be probed
   * @param sandbox where the probe runs
   */
  public HttpProbe(Duration timeout, int maxBodyBytes, boolean loopbackOnly, Sandbox sandbox) {
    this.timeout = timeout;
    this.maxBodyBytes = maxBodyBytes;
    this.loopbackOnly = loopbackOnly;
    this.sandbox = sandbox;
    this.client = HttpClient.newBuilder().connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** GETs {@code url} from run {@code runId}'s network; returns the status and (capped) body. */
  public String get(String runId, String url) {
    URI uri = URI.create(url);
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw new IllegalArgumentException("only http and https URLs can be probed");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("the URL names no host: " + url);
    }
    try {
      if (loopbackOnly) {
        for (InetAddress a : InetAddress.getAllByName(uri.getHost())) {
          if (!a.isLoopbackAddress()) {
            throw new IllegalArgumentException(
                "only loopback addresses may be probed; " + uri.getHost() + " is " + a);
          }
        }
      }
      return sandbox.unconfined() ? fromNode(uri) : fromSandbox(runId, uri);
    } catch (IOException e) {
      return "error=" + e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private String fromSandbox(String runId, URI uri) throws IOException, InterruptedException {
    sandbox.requireUsable();
    try (RunNetworks.Lease lease = sandbox.networks().acquire(runId)) {
      long seconds = Math.max(1, timeout.toSeconds());
      List<String> argv = sandbox.argv(sandbox.emptyDir(), lease.network(),
          Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8"),
          List.of("curl", "--silent", "--show-error", "--max-time", Long.toString(seconds),
              "--max-redirs", "0", "--proto", "=http,https", "--output", "-",
              "--write-out", "%{stderr}" + STATUS + "%{http_code}", "--", uri.toString()));
      ProcessBuilder pb = new ProcessBuilder(argv)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().clear();
      Process process = Launcher.start(pb);
      CompletableFuture<byte[]> body = read(process.getInputStream(), maxBodyBytes + 1);
      CompletableFuture<byte[]> err = read(process.getErrorStream(), 8192);
      if (!process.waitFor(seconds + 5, TimeUnit.SECONDS)) {
        CommandRunner.killTree(process);
        return "error=no answer within " + seconds + " s";
      }
      String diagnostics = new String(err.join(), StandardCharsets.UTF_8);
      int at = diagnostics.lastIndexOf(STATUS);
      if (process.exitValue() != 0 || at < 0) {
        String message = diagnostics.lines().filter(l -> !l.startsWith(STATUS)
            && !l.isBlank()).findFirst().orElse("curl exited with " + process.exitValue());
        return "error=" + message.replaceFirst(STATUS + "\\d*$", "").strip();
      }
      return render(diagnostics.substring(at + STATUS.length()).strip(), body.join());
    }
  }

  private String fromNode(URI uri) throws IOException, InterruptedException {
    HttpResponse<byte[]> response = client.send(
        HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    return render(Integer.toString(response.statusCode()), response.body());
  }

  private String render(String status, byte[] body) {
    String text = new String(body, 0, Math.min(body.length, maxBodyBytes),
        StandardCharsets.UTF_8);
    return "status=" + status + "\n" + text + (body.length > maxBodyBytes ? "\n[truncated]" : "");
  }

  /** Reads a stream to its end in the background, keeping its first {@code cap} bytes. */
  private static CompletableFuture<byte[]> read(InputStream in, int cap) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      ByteArrayOutputStream kept = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          kept.write(buf, 0, Math.max(0, Math.min(n, cap - kept.size())));
        }
      } catch (IOException ignored) {
        // The probe was killed: what was read is what there is.
      }
      result.complete(kept.toByteArray());
    }, "tether-probe-output");
    t.setDaemon(true);
    t.start();
    return result;
  }
}
