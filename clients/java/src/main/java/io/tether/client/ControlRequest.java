package io.tether.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A control a client sent to one of this agent's runs (steer, interrupt or cancel), as the
 * agent receives it. The agent answers it once with {@link #accept()} or {@link #decline()},
 * which writes {@code control.ack} ({@code data.consumed} true or false) into the session, where
 * every client sees it. Cancels are acknowledged by {@link AgentRun} itself.
 */
public final class ControlRequest {

  /** What the client asked for. */
  public enum Type {
    /** Stop the run (acknowledged by {@link AgentRun} itself). */
    CANCEL,
    /** Take a text into the run's next step. */
    STEER,
    /** Stop the current step and wait for input. */
    INTERRUPT
  }

  private final AgentRun run;
  private final Type type;
  private final String id;
  private final String text;
  private final String offset;
  private final String device;
  private final String by;
  private final AtomicBoolean answered = new AtomicBoolean();

  ControlRequest(AgentRun run, Type type, String id, String text, String offset, String device,
      String by) {
    this.run = run;
    this.type = type;
    this.id = id;
    this.text = text;
    this.offset = offset;
    this.device = device;
    this.by = by;
  }

  /** Steer, interrupt or cancel. */
  public Type type() {
    return type;
  }

  /** The control's id, which the acknowledgement names. */
  public String id() {
    return id;
  }

  /** The run it is for. */
  public String run() {
    return run.id();
  }

  /** The steering text (null for interrupt and cancel). */
  public String text() {
    return text;
  }

  /** The offset of the control's event in the session. */
  public String offset() {
    return offset;
  }

  /** The device that sent it, or null. */
  public String device() {
    return device;
  }

  /** Who sent it (the token's subject), or null. */
  public String by() {
    return by;
  }

  /** Whether it has been answered. */
  public boolean answered() {
    return answered.get();
  }

  /** Acknowledges it as consumed ({@code control.ack}, consumed true); once. */
  public CompletableFuture<Void> accept() {
    return answer(true);
  }

  /** Acknowledges it as not consumed ({@code control.ack}, consumed false); once. */
  public CompletableFuture<Void> decline() {
    return answer(false);
  }

  private CompletableFuture<Void> answer(boolean consumed) {
    if (id == null || !answered.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(null);
    }
    return run.acknowledge(id, consumed);
  }

  @Override
  public String toString() {
    return "ControlRequest[" + type + " " + id + " for " + run.id()
        + (text == null ? "" : ": " + text) + "]";
  }
}
