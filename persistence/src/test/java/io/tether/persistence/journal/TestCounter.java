package io.tether.persistence.journal;

import io.tether.persistence.TetherSerializable;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/** Test-only event-sourced counter: proves that events reach Cassandra and come back on recovery. */
final class TestCounter extends EventSourcedBehavior<TestCounter.Command, TestCounter.Event, TestCounter.State> {

  sealed interface Command permits Add, Get {}

  /** Adds an amount; replies once the event is persisted. */
  record Add(int amount, ActorRef<Done> replyTo) implements Command {}

  /** Replies with the current state. */
  record Get(ActorRef<State> replyTo) implements Command {}

  sealed interface Event extends TetherSerializable permits Added {}

  record Added(int amount) implements Event {}

  record State(long total, int events) {
    State plus(int amount) {
      return new State(total + amount, events + 1);
    }
  }

  static Behavior<Command> create(String id) {
    return new TestCounter(PersistenceId.of("TestCounter", id));
  }

  private TestCounter(PersistenceId persistenceId) {
    super(persistenceId);
  }

  @Override
  public State emptyState() {
    return new State(0, 0);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Add.class, (state, add) -> Effect().persist(new Added(add.amount()))
            .thenReply(add.replyTo(), ignored -> Done.getInstance()))
        .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), state))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Added.class, (state, added) -> state.plus(added.amount()))
        .build();
  }
}
