package io.tether.actors.quota;

import io.tether.persistence.TetherSerializable;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
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
 * The sessions one capability token has created, up to its limit: one sharded, event-sourced
 * entity per token id, persistence id {@code CreationQuota|<token id>}. Sharding makes it the one
 * count for that token in the whole cluster, and the journal keeps it across failover and
 * rebalancing, so a token cannot create more by spreading its requests over nodes or by
 * waiting for a node to die.
 *
 * <p>A creation is reserved before it happens ({@link Reserve}) and released if it then fails
 * ({@link Release}), so concurrent creates cannot overshoot the limit. Reserving an id the token
 * already holds costs nothing (a retried create is not counted twice). The state is at most
 * {@code limit} ids, so recovery is bounded.
 */
public final class CreationQuota
    extends EventSourcedBehavior<CreationQuota.Command, CreationQuota.Event, CreationQuota.State> {

  /** The sharding key of quotas; the entity id is the token's id. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "CreationQuota");

  /** Every message a quota accepts. */
  public sealed interface Command extends TetherSerializable permits Reserve, Release {}

  /** Reserves the creation of {@code sessionId} if fewer than {@code limit} are held. */
  public record Reserve(String sessionId, int limit, ActorRef<Reservation> replyTo)
      implements Command {}

  /** Gives back the reservation of {@code sessionId} (its creation failed); acknowledged once durable. */
  public record Release(String sessionId, ActorRef<Done> replyTo) implements Command {}

  /** The answer to {@link Reserve}. */
  public sealed interface Reservation extends TetherSerializable permits Reserved, Exhausted {}

  /**
   * The creation may go ahead.
   *
   * @param fresh whether this reservation was new (false: the token already held this id)
   */
  public record Reserved(boolean fresh) implements Reservation {}

  /** The token has created {@code limit} sessions already. */
  public record Exhausted(int limit) implements Reservation {}

  /** Everything a quota persists. */
  public sealed interface Event extends TetherSerializable
      permits CreationReserved, CreationReleased {}

  /** A creation was reserved. */
  public record CreationReserved(String sessionId) implements Event {}

  /** A reserved creation was given back. */
  public record CreationReleased(String sessionId) implements Event {}

  /** The ids the token holds reservations for, oldest first. */
  public record State(Set<String> sessions) implements TetherSerializable {}

  /** Registers the entity type with sharding on this node. */
  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
        ctx -> create(ctx.getEntityId())));
  }

  /** The quota of the token {@code tokenId}. */
  public static Behavior<Command> create(String tokenId) {
    return new CreationQuota(tokenId);
  }

  private CreationQuota(String tokenId) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), tokenId, "|"));
  }

  @Override
  public State emptyState() {
    return new State(Set.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Reserve.class, (state, cmd) -> {
          if (state.sessions().contains(cmd.sessionId())) {
            return Effect().reply(cmd.replyTo(), new Reserved(false));
          }
          if (state.sessions().size() >= cmd.limit()) {
            return Effect().reply(cmd.replyTo(), new Exhausted(cmd.limit()));
          }
          return Effect().persist(new CreationReserved(cmd.sessionId()))
              .thenReply(cmd.replyTo(), s -> new Reserved(true));
        })
        .onCommand(Release.class, (state, cmd) -> state.sessions().contains(cmd.sessionId())
            ? Effect().persist(new CreationReleased(cmd.sessionId()))
                .thenReply(cmd.replyTo(), s -> Done.getInstance())
            : Effect().reply(cmd.replyTo(), Done.getInstance()))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(CreationReserved.class, (state, e) -> {
          Set<String> next = new LinkedHashSet<>(state.sessions());
          next.add(e.sessionId());
          return new State(Collections.unmodifiableSet(next));
        })
        .onEvent(CreationReleased.class, (state, e) -> {
          Set<String> next = new LinkedHashSet<>(state.sessions());
          next.remove(e.sessionId());
          return new State(Collections.unmodifiableSet(next));
        })
        .build();
  }
}
