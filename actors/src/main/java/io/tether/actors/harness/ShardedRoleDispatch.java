package io.tether.actors.harness;

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
  public static EntityTypeKey<RoleEntity.Command> key(Role role) {
    return switch (role) {
      case PLANNER -> Planner.ENTITY_TYPE_KEY;
      case GENERATOR -> Generator.ENTITY_TYPE_KEY;
      case EVALUATOR -> Evaluator.ENTITY_TYPE_KEY;
    };
  }

  @Override
  public CompletionStage<RoleEntity.Accepted> perform(RoleTask task) {
    return sharding.entityRefFor(key(task.role()), task.runId())
        .askWithStatus(replyTo -> new RoleEntity.Perform(task, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<RoleEntity.Accepted> cancel(Role role, String runId, String taskId) {
    return sharding.entityRefFor(key(role), runId)
        .askWithStatus(replyTo -> new RoleEntity.CancelTask(taskId, replyTo), askTimeout);
  }
}
