package io.tether.actors.harness;

import io.tether.actors.harness.model.TokenUsage;
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
  public CompletionStage<Run.BudgetDecision> reserve(String runId, String callId, Role role,
      String model) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new Run.ReserveBudget(callId, role, model, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Run.Ack> settle(String runId, String callId, Role role, String model,
      TokenUsage usage) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new Run.SettleUsage(callId, role, model, usage, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Run.Ack> report(String runId, Run.TaskOutcome outcome) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .ask(replyTo -> new Run.ReportTask(outcome, replyTo), askTimeout);
  }
}
