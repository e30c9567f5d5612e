package io.tether.actors.harness.run;

import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.task.RunLink;
import io.tether.actors.harness.task.TaskOutcome;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** A {@link RunLink} that asks the sharded {@link Run} entities. */
public final class ShardedRunLink implements RunLink {

  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public ShardedRunLink(ActorSystem<?> system, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
  }

  @Override
  public CompletionStage<BudgetDecision> reserve(String runId, String callId, Role role,
      String model) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new RunCommand.ReserveBudget(callId, role, model, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Ack> settle(String runId, String callId, Role role, String model,
      TokenUsage usage) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new RunCommand.SettleUsage(callId, role, model, usage, replyTo),
            askTimeout);
  }

  @Override
  public CompletionStage<Ack> settle(String runId, String callId, Role role, String model,
      TokenUsage usage, int sprint, boolean estimated) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new RunCommand.SettleUsage(callId, role, model, usage, sprint,
            estimated, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Ack> report(String runId, TaskOutcome outcome) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new RunCommand.ReportTask(outcome, replyTo), askTimeout);
  }
}
