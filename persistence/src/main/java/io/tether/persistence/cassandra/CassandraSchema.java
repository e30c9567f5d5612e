package io.tether.persistence.cassandra;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CQL schema of the journal and the snapshot store, and the {@code migrate} step that creates
 * it.
 *
 * <p>The statements are produced by pekko-persistence-cassandra itself ({@link
 * KeyspaceAndTableStatements}) from the plugin config at {@value #PLUGIN_PATH}, so keyspace names,
 * table names, replication ({@code journal/snapshot.replication-strategy}, {@code
 * replication-factor}, {@code data-center-replication-factors}), compaction and gc grace are those
 * of the running config, and the columns are exactly what the plugin version expects. Every
 * statement is {@code CREATE ... IF NOT EXISTS}: {@link #migrate} is idempotent and can run on
 * every deployment. It only creates; it never alters or drops. The plugin's statements include the
 * events-by-tag tables ({@code tag_views}, {@code tag_write_progress}, {@code tag_scanning}) even
 * when events-by-tag is off; they stay empty, and turning the feature on later needs no migration.
 *
 * <p>Production leaves the plugin's {@code keyspace-autocreate} and {@code tables-autocreate} off
 * and runs {@code migrate}; {@link #checkAutocreatePolicy} enforces that autocreate is on only
 * where {@code tether.persistence.allow-autocreate} says so (dev overlay, tests).
 */
public final class CassandraSchema {

  /** Config path of the pekko-persistence-cassandra plugin whose schema this is. */
  public static final String PLUGIN_PATH = "pekko.persistence.cassandra";

  private static final Logger log = LoggerFactory.getLogger(CassandraSchema.class);

  private static final List<String> AUTOCREATE_KEYS = List.of(
      PLUGIN_PATH + ".journal.keyspace-autocreate",
      PLUGIN_PATH + ".journal.tables-autocreate",
      PLUGIN_PATH + ".snapshot.keyspace-autocreate",
      PLUGIN_PATH + ".snapshot.tables-autocreate");

  private CassandraSchema() {}

  /**
   * The CREATE statements, in execution order: journal keyspace, journal tables, snapshot keyspace,
   * snapshot tables. Without trailing semicolons.
   */
  public static List<String> statements(ActorSystem<?> system) {
    KeyspaceAndTableStatements plugin = new KeyspaceAndTableStatements(
        system, PLUGIN_PATH, new PluginSettings(system.classicSystem(), system.settings().config().getConfig(PLUGIN_PATH)));
    List<String> statements = new ArrayList<>();
    statements.add(plugin.createJournalKeyspaceStatement());
    statements.addAll(plugin.getCreateJournalTablesStatements());
    statements.add(plugin.createSnapshotKeyspaceStatement());
    statements.addAll(plugin.getCreateSnapshotTablesStatements());
    return List.copyOf(statements);
  }

  /** The schema as a CQL script, e.g. for {@code tether migrate --print} or a DBA's review. */
  public static String schemaCql(ActorSystem<?> system) {
    StringBuilder cql = new StringBuilder();
    for (String statement : statements(system)) {
      cql.append(statement.strip()).append(";\n\n");
    }
    return cql.toString();
  }

  /**
   * Creates the keyspaces and tables that do not exist yet, one statement after the other (each
   * waits for schema agreement), through the plugin's own session. Completes exceptionally with the
   * first failing statement's error, or after {@code tether.persistence.migrate-timeout}.
   */
  public static CompletionStage<Done> migrate(ActorSystem<?> system) {
    List<String> statements = statements(system);
    Config config = system.settings().config();
    Duration timeout = config.getDuration("tether.persistence.migrate-timeout");
    Duration statementTimeout = config.getDuration("tether.persistence.migrate-statement-timeout");
    CassandraSession session = CassandraSessionRegistry.get(system).sessionFor(PLUGIN_PATH);
    CompletionStage<Done> done = session.underlying().thenApply(ignored -> Done.getInstance());
    for (String statement : statements) {
      done = done
          .thenCompose(ignored -> session.underlying())
          .thenCompose(cql -> {
            log.debug("migrate: {}", statement);
            // The driver's default request timeout (2 s) is meant for queries; a CREATE TABLE
            // also waits for schema agreement and can take longer on a busy cluster.
            return cql.executeAsync(SimpleStatement.newInstance(statement).setTimeout(statementTimeout));
          })
          .thenApply(ignored -> Done.getInstance());
    }
    return done
        .thenApply(ignored -> {
          log.info("Cassandra schema is in place ({} statements, all IF NOT EXISTS)", statements.size());
          return Done.getInstance();
        })
        .toCompletableFuture()
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Throws {@link IllegalStateException} if the config lets the plugin create keyspaces or tables
   * while {@code tether.persistence.allow-autocreate} is off, naming the offending keys. Call it at
   * startup of a node.
   */
  public static void checkAutocreatePolicy(Config config) {
    if (config.getBoolean("tether.persistence.allow-autocreate")) {
      return;
    }
    List<String> enabled = AUTOCREATE_KEYS.stream()
        .filter(key -> config.hasPath(key) && config.getBoolean(key))
        .toList();
    if (!enabled.isEmpty()) {
      throw new IllegalStateException("Schema auto-creation is enabled (" + String.join(", ", enabled)
          + ") but tether.persistence.allow-autocreate is off. Outside dev mode and tests the schema "
          + "is created by `migrate`: turn these keys off, or allow autocreate in the dev overlay.");
    }
  }
}
