package io.tether.actors.harness.run;

import io.tether.persistence.TetherSerializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The list of runs, newest last, so clients can list runs without a query over every
 * persistence id (which the journal does not support). One entity, {@link #ALL}; an entry is
 * registered before its run starts and is never removed. It keeps the most recent
 * {@code max} entries.
 */
public final class RunIndex
    extends EventSourcedBehaviorWithEnforcedReplies<RunIndex.Command, RunIndex.Event,
        RunIndex.State> {

  /** The sharded entity type. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "RunIndex");

  /** The id of the one index entity. */
  public static final String ALL = "all";

  /** Messages the index accepts. */
  public sealed interface Command extends TetherSerializable permits Register, ListRuns {}

  /** Registers a run (idempotent per run id). */
  public record Register(Entry entry, ActorRef<Entry> replyTo) implements Command {}

  /** Lists the most recent runs, newest first. */
  public record ListRuns(int limit, ActorRef<Entries> replyTo) implements Command {}

  /** One run in the index. */
  public record Entry(String runId, String sessionId, String prompt, long createdAtMillis)
      implements TetherSerializable {}

  /** The reply to {@link ListRuns}. */
  public record Entries(List<Entry> entries) implements TetherSerializable {}

  /**
   * What happened to the index; journaled by class name like {@link RunEvent} (a rename needs a
   * migration).
   */
  public sealed interface Event extends TetherSerializable permits RunRegistered {}

  /** A run was registered. */
  public record RunRegistered(Entry entry) implements Event {}

  /** The registered runs, oldest first. */
  public record State(List<Entry> entries) implements TetherSerializable {}

  private final int max;

  private RunIndex(int max) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), ALL));
    this.max = max;
  }

  /** The index, keeping at most {@code max} entries. */
  public static Behavior<Command> create(int max) {
    return new RunIndex(max);
  }

  /** Registers the entity with cluster sharding, keeping at most {@code max} entries. */
  public static void init(ActorSystem<?> system, int max) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(max)));
  }

  @Override
  public State emptyState() {
    return new State(List.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Register.class, (state, cmd) -> state.entries().stream()
            .anyMatch(e -> e.runId().equals(cmd.entry().runId()))
            ? Effect().reply(cmd.replyTo(), cmd.entry())
            : Effect().persist(new RunRegistered(cmd.entry()))
                .thenReply(cmd.replyTo(), s -> cmd.entry()))
        .onCommand(ListRuns.class, (state, cmd) -> {
          List<Entry> newest = new ArrayList<>(state.entries());
          Collections.reverse(newest);
          return Effect().reply(cmd.replyTo(),
              new Entries(List.copyOf(newest.subList(0, Math.min(cmd.limit(), newest.size())))));
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(RunRegistered.class, (state, e) -> {
          List<Entry> next = new ArrayList<>(state.entries());
          next.add(e.entry());
          return new State(List.copyOf(next.subList(Math.max(0, next.size() - max),
              next.size())));
        })
        .build();
  }
}
