package io.tether.actors.session;

import io.tether.persistence.TetherSerializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The sessions one client (a token subject) created through the REST API, newest last: what
 * {@code GET /v1/sessions} lists. One sharded, event-sourced entity per subject, persistence id
 * {@code SessionDirectory|<subject>}. It only lists ids: a listed session may since have been
 * deleted by someone else, so readers check each one.
 */
public final class SessionDirectory
    extends EventSourcedBehavior<SessionDirectory.Command, SessionDirectory.Event,
        SessionDirectory.Listing> {

  /** The sharding key of directories. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "SessionDirectory");

  /** Every message a directory accepts. */
  public sealed interface Command extends TetherSerializable {}

  /** Lists a session (idempotent); acknowledged once durable. */
  public record Add(String sessionId, ActorRef<Done> replyTo) implements Command {}

  /** Unlists a session (idempotent); acknowledged once durable. */
  public record Remove(String sessionId, ActorRef<Done> replyTo) implements Command {}

  /** Returns the listing. */
  public record Get(ActorRef<Listing> replyTo) implements Command {}

  /** Everything a directory persists. */
  public sealed interface Event extends TetherSerializable {}

  /** A session was listed at {@code createdAtMillis}. */
  public record SessionListed(String sessionId, long createdAtMillis) implements Event {}

  /** A session was unlisted. */
  public record SessionUnlisted(String sessionId) implements Event {}

  /** The listed sessions and when each was created (epoch millis), oldest first. */
  public record Listing(Map<String, Long> sessions) implements TetherSerializable {}

  /** Registers the entity type with sharding on this node. */
  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
        ctx -> create(ctx.getEntityId())));
  }

  /** The directory of {@code subject}. */
  public static Behavior<Command> create(String subject) {
    return new SessionDirectory(subject);
  }

  private SessionDirectory(String subject) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), subject, "|"));
  }

  @Override
  public Listing emptyState() {
    return new Listing(Map.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandler<Command, Event, Listing> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Add.class, (state, cmd) -> state.sessions().containsKey(cmd.sessionId())
            ? Effect().reply(cmd.replyTo(), Done.getInstance())
            : Effect().persist(new SessionListed(cmd.sessionId(), System.currentTimeMillis()))
                .thenReply(cmd.replyTo(), s -> Done.getInstance()))
        .onCommand(Remove.class, (state, cmd) -> !state.sessions().containsKey(cmd.sessionId())
            ? Effect().reply(cmd.replyTo(), Done.getInstance())
            : Effect().persist(new SessionUnlisted(cmd.sessionId()))
                .thenReply(cmd.replyTo(), s -> Done.getInstance()))
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .build();
  }

  @Override
  public EventHandler<Listing, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(SessionListed.class, (state, e) -> {
          Map<String, Long> next = new LinkedHashMap<>(state.sessions());
          next.put(e.sessionId(), e.createdAtMillis());
          return new Listing(Collections.unmodifiableMap(next));
        })
        .onEvent(SessionUnlisted.class, (state, e) -> {
          Map<String, Long> next = new LinkedHashMap<>(state.sessions());
          next.remove(e.sessionId());
          return new Listing(Collections.unmodifiableMap(next));
        })
        .build();
  }
}
