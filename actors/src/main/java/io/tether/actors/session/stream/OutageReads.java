package io.tether.actors.session.stream;

import io.tether.actors.session.Session;

import java.util.function.Predicate;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Sits in front of a session entity and lets it answer reads from its last durable state while
 * the event-sourced behavior cannot (it is backing off after a journal failure, or recovering
 * from a journal that does not answer). Every other message goes through untouched, and is
 * stashed or times out as usual; nothing unpersisted is ever served, because the state offered
 * is the one the entity last saw acknowledged by the journal.
 */
final class OutageReads extends BehaviorInterceptor<Session.Command, Session.Command> {
  private final Predicate<Session.Command> servedFromMemory;

  /** {@code servedFromMemory} answers a command itself and returns true, or returns false. */
  OutageReads(Predicate<Session.Command> servedFromMemory) {
    super(Session.Command.class);
    this.servedFromMemory = servedFromMemory;
  }

  @Override
  public Behavior<Session.Command> aroundReceive(TypedActorContext<Session.Command> ctx,
      Session.Command msg, ReceiveTarget<Session.Command> target) {
    if (servedFromMemory.test(msg)) {
      return Behaviors.same();
    }
    return target.apply(ctx, msg);
  }
}
