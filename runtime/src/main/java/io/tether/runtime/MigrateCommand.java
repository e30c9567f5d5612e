package io.tether.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.persistence.cassandra.CassandraSchema;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * {@code tether migrate} and {@code tether schema}: create (or print) the journal and snapshot
 * keyspaces and tables on the Cassandra the node profile points at. It runs a local, non-cluster
 * ActorSystem, so it never joins or disturbs a running cluster.
 */
final class MigrateCommand {
  private MigrateCommand() {}

  /** Runs the command and returns the process exit code. */
  static int migrate(boolean printOnly) {
    Config config = ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(NodeMode.loadConfig());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "tether-migrate", config);
    try {
      if (printOnly) {
        System.out.println(CassandraSchema.schemaCql(system));
      } else {
        CassandraSchema.migrate(system).toCompletableFuture()
            .get(config.getDuration("tether.persistence.migrate-timeout").toMillis(), TimeUnit.MILLISECONDS);
        System.out.println("tether migrate: keyspaces and tables are in place ("
            + config.getString("pekko.persistence.cassandra.journal.keyspace") + ", "
            + config.getString("pekko.persistence.cassandra.snapshot.keyspace") + ")");
      }
      return 0;
    } catch (Exception e) {
      System.err.println("tether migrate failed: " + e);
      return 1;
    } finally {
      system.terminate();
    }
  }
}
