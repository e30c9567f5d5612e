package io.tether.http.health;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Answers whether the journal is reachable right now, by running a trivial query on the same
 * Cassandra session the journal plugin uses. A failed or slow answer counts as unreachable.
 */
public final class JournalProbe {
  private static final String PLUGIN_SESSION_PATH = "pekko.persistence.cassandra";

  private final CassandraSession session;
  private final Duration timeout;

  public JournalProbe(ActorSystem<?> system) {
    this.session = CassandraSessionRegistry.get(system)
        .sessionFor(CassandraSessionSettings.create(PLUGIN_SESSION_PATH));
    this.timeout = system.settings().config().getDuration("tether.http.readiness.journal-timeout");
  }

  /** Completes with true if Cassandra answered a query within the configured timeout. */
  public CompletionStage<Boolean> reachable() {
    return session.selectOne("SELECT release_version FROM system.local")
        .thenApply(row -> row.isPresent())
        .toCompletableFuture()
        .completeOnTimeout(false, timeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(e -> false);
  }

  static CompletionStage<Boolean> alwaysReachable() {
    return CompletableFuture.completedFuture(true);
  }
}
