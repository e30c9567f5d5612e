package io.tether.actors.session.stream;

import io.tether.actors.session.ProducerState;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.StreamState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Recovers one session that does not exist before a node serves requests, so the journal's and
 * the snapshot store's queries are prepared and their connections open: without it the first
 * request to any session after a restart paid for that (hundreds of milliseconds measured by the
 * benchmarks' long-session scenario), with it that request pays only for its own recovery. The
 * session is never written: a {@code Describe} of an absent stream persists nothing. Before
 * that, sample events go through the serializer and the fold ({@link #warmEventPath}).
 */
public final class JournalWarmup {
  private static final String ID = "__tether_journal_warmup__";

  private JournalWarmup() {}

  /** Completes once the throwaway session has recovered (and stopped again). */
  public static CompletionStage<Session.Described> run(ActorSystem<?> system, Duration timeout) {
    warmEventPath(system);
    ActorRef<Session.Command> entity = system.systemActorOf(
        SessionEntity.create(ID, SessionSetup.fromSystem(system)),
        "journal-warmup-" + System.nanoTime(), Props.empty());
    return AskPattern.<Session.Command, Session.Described>ask(entity, Session.Describe::new,
            timeout, system.scheduler())
        .whenComplete((described, error) -> entity.tell(new Session.Stop()));
  }

  /**
   * Reads sample session events back through the node's serializer and folds them into a state,
   * so the first real recovery after a start does not build the event classes' deserializers
   * and load the fold's code itself (the first request to a small session after a restart: about
   * 310 ms before, 175 ms after, on the 2-core development VM). Returns the folded state.
   */
  static StreamState warmEventPath(ActorSystem<?> system) {
    Serialization serialization = SerializationExtension.get(system);
    List<byte[]> items = List.of(
        item("{\"type\":\"run.start\",\"run\":\"w\",\"producer\":\"p\",\"data\":{}}"),
        item("{\"type\":\"message.start\",\"run\":\"w\",\"data\":{\"id\":\"m\"}}"),
        item("{\"type\":\"message.delta\",\"run\":\"w\",\"data\":{\"id\":\"m\",\"text\":\"t\"}}"),
        item("{\"type\":\"message.end\",\"run\":\"w\",\"data\":{\"id\":\"m\"}}"));
    List<SessionEvent> events = List.of(
        new SessionEvent.StreamCreated("application/json", null, null, null, null, 0),
        new SessionEvent.ItemsAppended(items, Map.of("p", new ProducerState(0, 1)), null));
    StreamState state = StreamState.empty();
    for (SessionEvent event : events) {
      Serializer serializer = serialization.findSerializerFor(event);
      Object back = serialization.deserialize(serialization.serialize(event).get(),
          serializer.identifier(), Serializers.manifestFor(serializer, event)).get();
      if (back instanceof SessionEvent.StreamCreated created) {
        state = state.next().created(created);
      } else if (back instanceof SessionEvent.ItemsAppended appended) {
        state = state.next().appended(appended, 1 << 20, 16);
      }
    }
    return state;
  }

  private static byte[] item(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }
}
