package io.tether.actors.logging;

import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The MDC of an entity's log lines (its {@code sessionId} or {@code runId}), set while the
 * entity processes any message. {@code Behaviors.withMdc(Command.class, ...)} sets it only
 * while a command is processed, but an event-sourced entity runs much of its code while Pekko's
 * own messages are processed: the journal's replies, after which {@code thenRun} side effects
 * run, and a failed write, with the supervisor's log line, the restart and its signal. Those
 * lines lost the id an operator searches by.
 */
public final class EntityMdc {
  private EntityMdc() {}

  /** {@code behavior} with {@code mdc} set while it processes any message, of any class. */
  @SuppressWarnings("unchecked")
  public static <T> Behavior<T> withMdc(Map<String, String> mdc, Behavior<T> behavior) {
    Behavior<Object> anyMessage = (Behavior<Object>) (Behavior<?>) behavior;
    return (Behavior<T>) (Behavior<?>) Behaviors.withMdc(Object.class, mdc, anyMessage);
  }
}
