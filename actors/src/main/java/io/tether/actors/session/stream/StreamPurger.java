package io.tether.actors.session.stream;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.persistence.cassandra.cleanup.Cleanup;
import org.apache.pekko.persistence.cassandra.cleanup.CleanupSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.FutureConverters;

/**
 * Physically removes a deleted stream's data: its events up to the deletion and its snapshots.
 * Reads already ignore that data (the retention horizon in {@link io.tether.actors.session.StreamState}); purging makes
 * the delete real on disk.
 */
@FunctionalInterface
public interface StreamPurger {

  /** Deletes the events of {@code persistenceId} up to {@code toSequenceNr} and its snapshots. */
  CompletionStage<Done> purge(String persistenceId, long toSequenceNr);

  /** A purger that keeps everything (journals without deletion, unit tests). */
  static StreamPurger none() {
    return (persistenceId, toSequenceNr) -> CompletableFuture.completedFuture(Done.getInstance());
  }

  /**
   * The purger for the configured journal: Cassandra's cleanup tool when the Cassandra journal is
   * in use and {@code tether.session.purge-on-delete} is on, otherwise {@link #none()}.
   */
  static StreamPurger forSystem(ActorSystem<?> system, SessionSettings settings) {
    String journal = system.settings().config().getString("pekko.persistence.journal.plugin");
    if (!settings.purgeOnDelete() || !journal.startsWith("pekko.persistence.cassandra")) {
      return none();
    }
    Logger log = LoggerFactory.getLogger(StreamPurger.class);
    // Pekko's cleanup tool only logs what it would delete unless dry-run is off, and its
    // reference.conf has it on: purging never happened until StreamPurgeTest read the rows back.
    Config cleanupConfig = ConfigFactory.parseString("dry-run = off").withFallback(
        system.settings().config().getConfig("pekko.persistence.cassandra.cleanup"));
    Cleanup cleanup = new Cleanup(system, new CleanupSettings(cleanupConfig));
    return (persistenceId, toSequenceNr) ->
        FutureConverters.asJava(cleanup.deleteEventsTo(persistenceId, toSequenceNr))
            .thenCompose(done -> FutureConverters.asJava(cleanup.deleteAllSnapshots(persistenceId)))
            .whenComplete((done, error) -> {
              if (error != null) {
                log.warn("Purging {} up to {} failed; reads already ignore that data",
                    persistenceId, toSequenceNr, error);
              }
            });
  }
}
