package io.tether.actors.session.stream;

import io.tether.actors.session.Session;

import java.util.function.Predicate;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Sits in front of a session entity and answers for it while the event-sourced behavior cannot
 * (it is backing off after a journal failure, or recovering from a journal that does not answer):
 * reads from its last durable state, and appends refused at once with {@code JOURNAL_UNAVAILABLE}
 * (503 and {@code Retry-After}) instead of waiting out the asker's timeout in a stash. A refused
 * append is never written later, so a 503 during an outage means "not written". Every other
 * message goes through untouched, and is stashed or times out as usual; nothing unpersisted is
 * ever served, because the state offered is the one the entity last saw acknowledged by the
 * journal.
 */
final class OutageAnswers extends BehaviorInterceptor<Session.Command, Session.Command> {
  private final Predicate<Session.Command> answered;

  /** {@code answered} answers a command itself and returns true, or returns false. */
  OutageAnswers(Predicate<Session.Command> answered) {
    super(Session.Command.class);
    this.answered = answered;
  }

  @Override
  public Behavior<Session.Command> aroundReceive(TypedActorContext<Session.Command> ctx,
      Session.Command msg, ReceiveTarget<Session.Command> target) {
    if (answered.test(msg)) {
      return Behaviors.same();
    }
    return target.apply(ctx, msg);
  }
}
