package io.tether.actors.harness.role;

import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RoleDispatch;
import io.tether.actors.harness.task.RoleTask;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/** A {@link RoleDispatch} that asks the sharded role entities. */
public final class ShardedRoleDispatch implements RoleDispatch {

  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public ShardedRoleDispatch(ActorSystem<?> system, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  /** The entity type of a role. */
  public static EntityTypeKey<RoleCommand> key(Role role) {
    return switch (role) {
      case PLANNER -> Planner.ENTITY_TYPE_KEY;
      case GENERATOR -> Generator.ENTITY_TYPE_KEY;
      case EVALUATOR -> Evaluator.ENTITY_TYPE_KEY;
    };
  }

  @Override
  public CompletionStage<Accepted> perform(RoleTask task) {
    return sharding.entityRefFor(key(task.role()), task.runId())
        .askWithStatus(replyTo -> new RoleCommand.Perform(task, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Accepted> cancel(Role role, String runId, String taskId) {
    return sharding.entityRefFor(key(role), runId)
        .askWithStatus(replyTo -> new RoleCommand.CancelTask(taskId, replyTo), askTimeout);
  }
}
