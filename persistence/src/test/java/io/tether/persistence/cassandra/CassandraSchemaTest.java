package io.tether.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.persistence.testkit.TestCassandra;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.junit.jupiter.api.Test;

class CassandraSchemaTest {

  private static final String PRODUCTION_LIKE = """
      tether.persistence.allow-autocreate = off
      pekko.persistence.cassandra.journal { keyspace-autocreate = off, tables-autocreate = off }
      pekko.persistence.cassandra.snapshot { keyspace-autocreate = off, tables-autocreate = off }
      """;

  @Test
  void migrateCreatesTheJournalAndSnapshotTablesAndCanRunAgain() throws Exception {
    Config config = ConfigFactory.parseString(PRODUCTION_LIKE)
        .withFallback(TestCassandra.get().configFor("CassandraSchemaTest"))
        .withFallback(ConfigFactory.load());
    String keyspace = config.getString("pekko.persistence.cassandra.journal.keyspace");
    ActorTestKit testKit = ActorTestKit.create("CassandraSchemaTest", config);
    try {
      CassandraSchema.checkAutocreatePolicy(config);

      CassandraSchema.migrate(testKit.system()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      CassandraSchema.migrate(testKit.system()).toCompletableFuture().get(60, TimeUnit.SECONDS);

      List<Row> rows = CassandraSessionRegistry.get(testKit.system())
          .sessionFor(CassandraSchema.PLUGIN_PATH)
          .selectAll("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      Set<String> tables = rows.stream().map(row -> row.getString("table_name")).collect(Collectors.toSet());
      assertTrue(tables.containsAll(Set.of("messages", "metadata", "all_persistence_ids", "snapshots")),
          "tables: " + tables);

      Row replication = CassandraSessionRegistry.get(testKit.system())
          .sessionFor(CassandraSchema.PLUGIN_PATH)
          .selectOne("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", keyspace)
          .toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
      assertEquals("1", replication.getMap("replication", String.class, String.class).get("replication_factor"));
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void schemaCqlIsIdempotentCqlForTheConfiguredKeyspaces() {
    Config config = ConfigFactory.parseString("""
        pekko.persistence.cassandra.journal.keyspace = tether_journal
        pekko.persistence.cassandra.snapshot.keyspace = tether_snapshot
        pekko.persistence.cassandra.journal.replication-strategy = NetworkTopologyStrategy
        pekko.persistence.cassandra.journal.data-center-replication-factors = ["dc1:3"]
        pekko.persistence.cassandra.events-by-tag.enabled = off
        """).withFallback(ConfigFactory.load());
    ActorTestKit testKit = ActorTestKit.create("CassandraSchemaCql", config);
    try {
      String cql = CassandraSchema.schemaCql(testKit.system());

      assertTrue(cql.contains("CREATE KEYSPACE IF NOT EXISTS tether_journal"), cql);
      assertTrue(cql.contains("'dc1' : 3") || cql.contains("'dc1':3"), cql);
      assertTrue(cql.contains("CREATE TABLE IF NOT EXISTS tether_journal.messages"), cql);
      assertTrue(cql.contains("CREATE TABLE IF NOT EXISTS tether_snapshot.snapshots"), cql);
      for (String statement : CassandraSchema.statements(testKit.system())) {
        assertTrue(statement.contains("IF NOT EXISTS"), statement);
      }
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void autocreateIsRefusedUnlessExplicitlyAllowed() {
    Config autocreate = ConfigFactory.parseString("""
        tether.persistence.allow-autocreate = off
        pekko.persistence.cassandra.journal.tables-autocreate = on
        """).withFallback(ConfigFactory.load());

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> CassandraSchema.checkAutocreatePolicy(autocreate));
    assertTrue(e.getMessage().contains("pekko.persistence.cassandra.journal.tables-autocreate"), e.getMessage());

    CassandraSchema.checkAutocreatePolicy(ConfigFactory.load());
    CassandraSchema.checkAutocreatePolicy(ConfigFactory.parseString("tether.persistence.allow-autocreate = on")
        .withFallback(autocreate));
  }
}
