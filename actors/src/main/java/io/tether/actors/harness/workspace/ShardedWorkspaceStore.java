package io.tether.actors.harness.workspace;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** A {@link WorkspaceStore} that asks the sharded {@link Workspace} entities. */
public final class ShardedWorkspaceStore implements WorkspaceStore {

  private final ClusterSharding sharding;
  private final Duration askTimeout;

  /** Uses {@code tether.harness.ask-timeout} for every ask. */
  public ShardedWorkspaceStore(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = system.settings().config().getDuration("tether.harness.ask-timeout");
  }

  @Override
  public CompletionStage<Workspace.Files> files(String runId) {
    return sharding.entityRefFor(Workspace.ENTITY_TYPE_KEY, runId)
        .ask(Workspace.GetFiles::new, askTimeout);
  }

  @Override
  public CompletionStage<Workspace.Written> write(String runId, String path, String content,
      String author) {
    return sharding.entityRefFor(Workspace.ENTITY_TYPE_KEY, runId)
        .askWithStatus(replyTo -> new Workspace.WriteFile(path, content, author, replyTo),
            askTimeout);
  }
}
