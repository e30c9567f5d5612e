package io.tether.actors.harness.run;

import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.TaskOutcome;
import io.tether.persistence.TetherSerializable;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * Messages a {@link Run} accepts. Clients get a {@link RunSummary}; roles get a {@link
 * BudgetDecision} or an {@link Ack}. The Run's own timer and pipe messages are {@link
 * Run.Redispatch} and {@link Run.DispatchAnswered}.
 */
public sealed interface RunCommand extends TetherSerializable
    permits RunCommand.Start, RunCommand.Describe, RunCommand.Cancel, RunCommand.Pause,
        RunCommand.Resume, RunCommand.SteerRun, RunCommand.ReserveBudget, RunCommand.SettleUsage,
        RunCommand.ReportTask, Run.Redispatch, Run.DispatchAnswered {

  /** Starts the run (idempotent: a started run answers with its summary). */
  record Start(String prompt, Map<String, String> models, RunPolicy policy, String sessionId,
      ActorRef<StatusReply<RunSummary>> replyTo) implements RunCommand {}

  /** Asks for the run's summary. */
  record Describe(ActorRef<StatusReply<RunSummary>> replyTo) implements RunCommand {}

  /** Cancels the run; {@code controlId} names the session control it answers, if any. */
  record Cancel(String reason, String controlId, ActorRef<StatusReply<RunSummary>> replyTo)
      implements RunCommand {

    /** A cancel asked for directly (not through a session control). */
    public static Cancel direct(String reason, ActorRef<StatusReply<RunSummary>> replyTo) {
      return new Cancel(reason, null, replyTo);
    }
  }

  /** Holds the run before its next task. */
  record Pause(ActorRef<StatusReply<RunSummary>> replyTo) implements RunCommand {}

  /** Lets a paused run go on. */
  record Resume(ActorRef<StatusReply<RunSummary>> replyTo) implements RunCommand {}

  /** Adds a human message to the next role task; {@code controlId} as for {@link Cancel}. */
  record SteerRun(String text, String controlId, ActorRef<StatusReply<RunSummary>> replyTo)
      implements RunCommand {

    /** A steer asked for directly (not through a session control). */
    public static SteerRun direct(String text, ActorRef<StatusReply<RunSummary>> replyTo) {
      return new SteerRun(text, null, replyTo);
    }
  }

  /** Asks whether a model call may start. */
  record ReserveBudget(String callId, Role role, String model, ActorRef<BudgetDecision> replyTo)
      implements RunCommand {}

  /**
   * Settles a model call's usage (idempotent per call id): {@code sprint} of the task that made
   * it, {@code estimated} when the tokens are an estimate (an attempt cut off).
   */
  record SettleUsage(String callId, Role role, String model, TokenUsage usage, int sprint,
      boolean estimated, ActorRef<Ack> replyTo) implements RunCommand {

    /** A completed call of an unknown sprint. */
    public SettleUsage(String callId, Role role, String model, TokenUsage usage,
        ActorRef<Ack> replyTo) {
      this(callId, role, model, usage, -1, false, replyTo);
    }
  }

  /** A role reports a task's end (idempotent per task id). */
  record ReportTask(TaskOutcome outcome, ActorRef<Ack> replyTo) implements RunCommand {}
}
