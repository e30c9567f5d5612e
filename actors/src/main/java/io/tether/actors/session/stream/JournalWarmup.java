package io.tether.actors.session.stream;

import io.tether.actors.session.Session;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Recovers one session that does not exist before a node serves requests, so the journal's and
 * the snapshot store's queries are prepared and their connections open: without it the first
 * request to any session after a restart paid for that (hundreds of milliseconds measured by the
 * benchmarks' long-session scenario), with it that request pays only for its own recovery. The
 * session is never written: a {@code Describe} of an absent stream persists nothing.
 */
public final class JournalWarmup {
  private static final String ID = "__tether_journal_warmup__";

  private JournalWarmup() {}

  /** Completes once the throwaway session has recovered (and stopped again). */
  public static CompletionStage<Session.Described> run(ActorSystem<?> system, Duration timeout) {
    ActorRef<Session.Command> entity = system.systemActorOf(
        SessionEntity.create(ID, SessionSetup.fromSystem(system)),
        "journal-warmup-" + System.nanoTime(), Props.empty());
    return AskPattern.<Session.Command, Session.Described>ask(entity, Session.Describe::new,
            timeout, system.scheduler())
        .whenComplete((described, error) -> entity.tell(new Session.Stop()));
  }
}
