package io.tether.http;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Binds the public API on the configured interface and port, and unbinds it in coordinated
 * shutdown so that in-flight requests finish before the node leaves the cluster. Requests the
 * HTTP parser refuses get problem bodies too ({@link ProblemParsingErrorHandler}).
 */
public final class HttpServer {
  private HttpServer() {}

  /** Binds {@code route} on {@code tether.http.interface}/{@code tether.http.port}. */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, Route route) {
    var config = system.settings().config().getConfig("tether.http");
    return start(system, route, config.getString("interface"), config.getInt("port"));
  }

  /** Binds {@code route} on the given interface and port (0 picks a free port). */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, Route route, String host, int port) {
    Duration hardDeadline = system.settings().config().getDuration("tether.http.unbind-deadline");
    return Http.get(system).newServerAt(host, port)
        .adaptSettings(settings ->
            settings.withParsingErrorHandler(ProblemParsingErrorHandler.class.getName()))
        .bind(route)
        .thenApply(binding -> binding.addToCoordinatedShutdown(hardDeadline, system));
  }

  /** The address a binding listens on, as {@code http://host:port}. */
  public static String baseUrl(ServerBinding binding) {
    InetSocketAddress address = binding.localAddress();
    return "http://" + address.getHostString() + ":" + address.getPort();
  }
}
