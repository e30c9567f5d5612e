package io.tether.actors.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import io.tether.actors.session.Session.ForkRequest;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes in one cluster: every stream operation works whichever node the client and the
 * entity are on, so commands, replies (with their payload bytes and reply-to references) and
 * fork stitching cross the network through the configured serializers.
 */
class SessionClusterTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static ActorTestKit nodeA;
  private static ActorTestKit nodeB;

  private static Config config() {
    return ConfigFactory.parseString("""
            pekko.loglevel = INFO
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.persistence.journal.plugin = "pekko.persistence.testkit.journal"
            pekko.persistence.snapshot-store.plugin = "pekko.persistence.testkit.snapshotstore.pluginid"
            tether.session.read-journal-plugin-id = "pekko.persistence.testkit.query"
            """)
        .withFallback(PersistenceTestKitPlugin.getInstance().config())
        .withFallback(PersistenceTestKitSnapshotPlugin.config())
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  @BeforeAll
  static void formCluster() throws Exception {
    nodeA = ActorTestKit.create("SessionCluster", config());
    nodeB = ActorTestKit.create("SessionCluster", config());
    Cluster a = Cluster.get(nodeA.system());
    a.manager().tell(Join.create(a.selfMember().address()));
    Cluster.get(nodeB.system()).manager().tell(Join.create(a.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(nodeA.system());
    io.tether.actors.session.stream.SessionEntity.init(nodeB.system());
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline) {
      long up = 0;
      for (var member : a.state().getMembers()) {
        if (member.status().equals(MemberStatus.up())) {
          up++;
        }
      }
      if (up == 2) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the two nodes did not form a cluster");
  }

  @AfterAll
  static void stop() {
    nodeB.shutdownTestKit();
    nodeA.shutdownTestKit();
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  private static String text(List<byte[]> items) {
    StringBuilder out = new StringBuilder();
    items.forEach(b -> out.append(new String(b, StandardCharsets.UTF_8)));
    return out.toString();
  }

  @Test
  void everyOperationWorksFromEitherNodeIncludingForksAndLongPolls() throws Exception {
    SessionStreams viaA = new SessionStreams(nodeA.system(), TIMEOUT);
    SessionStreams viaB = new SessionStreams(nodeB.system(), TIMEOUT);
    for (int i = 0; i < 12; i++) {
      String id = "cluster-" + i;
      SessionStreams writer = i % 2 == 0 ? viaA : viaB;
      SessionStreams reader = i % 2 == 0 ? viaB : viaA;
      Created created = (Created) await(writer.create(id, new CreateSpec("text/plain", null,
          null, null, false, List.of("a".getBytes(StandardCharsets.UTF_8)), null, null,
          List.of())));
      CompletableFuture<Session.ReadReply> poll = reader.read(id,
          new ReadSpec(created.info().tail(), false, null, 1 << 20, 5_000, false))
          .toCompletableFuture();
      Thread.sleep(100);
      Appended appended = (Appended) await(writer.append(id, new AppendSpec("text/plain",
          List.of("b".getBytes(StandardCharsets.UTF_8)), new ProducerTuple("p", 0, 0), null,
          false)));
      ReadResult live = (ReadResult) poll.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertEquals("b", text(live.items()), "the long-poll on the other node got the append");
      assertEquals(appended.next(), live.next());

      String fork = id + "-fork";
      assertInstanceOf(Created.class, await(reader.create(fork, new CreateSpec(null, null, null,
          null, false, List.of("c".getBytes(StandardCharsets.UTF_8)),
          new ForkRequest(id, null, 0), null, List.of()))));
      ReadResult stitched = (ReadResult) await(writer.read(fork,
          new ReadSpec(null, false, null, 1 << 20, 0, false)));
      assertEquals("abc", text(stitched.items()));
      assertTrue(stitched.upToDate());
    }
  }
}
