package io.tether.actors.harness.role;

import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.RoleTask;
import io.tether.persistence.TetherSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * Messages a role ({@link RoleEntity}) accepts. The Run's are {@link Perform} and {@link
 * CancelTask}, both answered with {@link Accepted}; the others are the role's own timer and
 * pipe messages, declared beside the code that sends them ({@link RoleEntity}, {@link ToolLoop}).
 */
public sealed interface RoleCommand extends TetherSerializable
    permits RoleCommand.Perform, RoleCommand.CancelTask, RoleCommand.GetState,
        RoleEntity.Recovered, ToolLoop.Continue, ToolLoop.BudgetAnswered,
        ToolLoop.ModelCallFinished, ToolLoop.ToolCallFinished, ToolLoop.ReportAnswered {

  /** Performs a task (idempotent per task id); replies once the task is durably accepted. */
  record Perform(RoleTask task, ActorRef<StatusReply<Accepted>> replyTo)
      implements RoleCommand {}

  /** Cancels the task if it is still running; replies once the cancel is durable. */
  record CancelTask(String taskId, ActorRef<StatusReply<Accepted>> replyTo)
      implements RoleCommand {}

  /** Asks for the role's state. */
  record GetState(ActorRef<RoleState> replyTo) implements RoleCommand {}
}
