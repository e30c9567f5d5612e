package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * An HTTP GET against an app a role started, limited to loopback addresses unless configured
 * otherwise: the host is resolved first and every address it resolves to must be loopback, and
 * redirects are not followed (a redirect could leave loopback). Blocking: call it on the tool
 * dispatcher.
 */
public final class HttpProbe {

  private final Duration timeout;
  private final int maxBodyBytes;
  private final boolean loopbackOnly;
  private final HttpClient client;

  /**
   * @param timeout connect and response timeout
   * @param maxBodyBytes how much of the body is returned
   * @param loopbackOnly whether only loopback addresses may be probed
   */
  public HttpProbe(Duration timeout, int maxBodyBytes, boolean loopbackOnly) {
    this.timeout = timeout;
    this.maxBodyBytes = maxBodyBytes;
    this.loopbackOnly = loopbackOnly;
    this.client = HttpClient.newBuilder().connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** GETs {@code url}; returns the status line and the (capped) body. */
  public String get(String url) {
    URI uri = URI.create(url);
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw new IllegalArgumentException("only http and https URLs can be probed");
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
      HttpResponse<byte[]> response = client.send(
          HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      byte[] body = response.body();
      String text = new String(body, 0, Math.min(body.length, maxBodyBytes),
          StandardCharsets.UTF_8);
      return "status=" + response.statusCode() + "\n" + text
          + (body.length > maxBodyBytes ? "\n[truncated]" : "");
    } catch (IOException e) {
      return "error=" + e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
