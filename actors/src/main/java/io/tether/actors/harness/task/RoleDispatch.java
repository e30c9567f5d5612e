package io.tether.actors.harness.task;

import java.util.concurrent.CompletionStage;

/** How the Run reaches its roles. */
public interface RoleDispatch {

  /** Hands a task to its role; completes when the role has durably accepted it. */
  CompletionStage<Accepted> perform(RoleTask task);

  /** Cancels a role's task; completes when the cancel is durable. */
  CompletionStage<Accepted> cancel(Role role, String runId, String taskId);
}
