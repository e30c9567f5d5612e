package io.tether.benchmarks.load.client;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds the JDK HTTP clients the generator uses: HTTP/1.1 (what both servers speak), a connect
 * timeout, and a daemon executor so a forgotten client never keeps the JVM alive.
 *
 * <p>Call {@link #configureJdkDefaults()} before the first client is built: the JDK reads its
 * connection-pool settings once.
 */
public final class HttpClients {
  private static final AtomicInteger THREADS = new AtomicInteger();

  private HttpClients() {}

  /**
   * The JDK keeps idle connections for 20 minutes by default; the Node peer closes them after
   * 5 s, so a reused connection could be half-closed and fail a non-idempotent POST. Three
   * seconds stays under every server's keep-alive.
   */
  public static void configureJdkDefaults() {
    System.setProperty("jdk.httpclient.keepalive.timeout", "3");
  }

  /** A new client with its own selector thread; several of them spread many live readers. */
  public static HttpClient newClient(String name) {
    ThreadFactory threads = r -> {
      Thread t = new Thread(r, name + "-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    ExecutorService executor = Executors.newCachedThreadPool(threads);
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .executor(executor)
        .build();
  }
}
