package io.tether.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.SessionStreams;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The configuration every in-process test node shares: a one-node cluster on a free loopback
 * port that never exits the JVM, HEAD kept as HEAD, and short long-polls. Each test server adds
 * its own timeouts, auth and persistence on top.
 */
public final class TestNodeConfig {
  private TestNodeConfig() {}

  /** The node's one client of the session entities, as the composition root builds it. */
  public static SessionStreams streams(ActorSystem<?> system) {
    return new SessionStreams(system,
        system.settings().config().getDuration("tether.http.ask-timeout"));
  }

  /** The shared block; the caller's settings go first, with this as their fallback. */
  public static Config base() {
    return ConfigFactory.parseString("""
        pekko.loglevel = INFO
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.http.server.transparent-head-requests = off
        pekko.http.server.request-timeout = 60s
        tether.streams.long-poll-timeout = 1s
        """);
  }
}
