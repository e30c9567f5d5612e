package io.tether.persistence.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.persistence.testkit.TestCassandra;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.junit.jupiter.api.Test;

class CassandraJournalRecoveryTest {

  private static final String SERIALIZATION = """
      pekko.actor.serialization-bindings {
        "io.tether.persistence.TetherSerializable" = jackson-json
      }
      pekko.actor.allow-java-serialization = off
      """;

  @Test
  void recoversEveryPersistedEventInANewActorSystem() throws Exception {
    Config config = TestCassandra.get().configFor("CassandraJournalRecoveryTest")
        .withFallback(ConfigFactory.parseString(SERIALIZATION))
        .withFallback(ConfigFactory.load());
    String keyspace = config.getString("pekko.persistence.cassandra.journal.keyspace");
    int events = 60;

    ActorTestKit first = ActorTestKit.create("RecoveryWrite", config);
    try {
      ActorRef<TestCounter.Command> counter = first.spawn(TestCounter.create("c1"));
      TestProbe<Done> acks = first.createTestProbe();
      for (int i = 1; i <= events; i++) {
        counter.tell(new TestCounter.Add(i, acks.ref()));
        // The first write also creates the keyspace and tables, hence the generous wait.
        acks.expectMessage(Duration.ofSeconds(i == 1 ? 60 : 10), Done.getInstance());
      }

      List<Row> rows = CassandraSessionRegistry.get(first.system()).sessionFor("pekko.persistence.cassandra")
          .selectAll("SELECT ser_manifest, ser_id FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0",
              "TestCounter|c1")
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(events, rows.size());
      assertEquals(TestCounter.Added.class.getName(), rows.get(0).getString("ser_manifest"));
      assertEquals(31, rows.get(0).getInt("ser_id"), "events must be written by jackson-json (serializer id 31)");
    } finally {
      first.shutdownTestKit();
    }

    ActorTestKit second = ActorTestKit.create("RecoveryRead", config);
    try {
      ActorRef<TestCounter.Command> counter = second.spawn(TestCounter.create("c1"));
      TestProbe<TestCounter.State> state = second.createTestProbe();
      counter.tell(new TestCounter.Get(state.ref()));
      assertEquals(new TestCounter.State((long) events * (events + 1) / 2, events),
          state.receiveMessage(Duration.ofSeconds(30)));
    } finally {
      second.shutdownTestKit();
    }
  }
}
