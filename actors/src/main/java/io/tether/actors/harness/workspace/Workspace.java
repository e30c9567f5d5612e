package io.tether.actors.harness.workspace;

import io.tether.persistence.TetherSerializable;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * A run's durable workspace: the files that are the hand-off medium between roles (spec,
 * contracts, evaluations, progress, and what the generator writes), as an event-sourced map from
 * workspace path to text. Each write is one event; the state is the latest content per path
 * plus a version that counts writes, so a node materializing the workspace knows whether its
 * local copy is current. Keyed by run id.
 */
public final class Workspace
    extends EventSourcedBehaviorWithEnforcedReplies<Workspace.Command, Workspace.Event,
        Workspace.State> {

  /** The sharded entity type. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Workspace");

  /** Messages the workspace accepts. */
  public sealed interface Command extends TetherSerializable permits WriteFile, GetFiles {}

  /** Writes (creates or replaces) one file. */
  public record WriteFile(String path, String content, String author,
      ActorRef<StatusReply<Written>> replyTo) implements Command {}

  /** Asks for every file and the version. */
  public record GetFiles(ActorRef<Files> replyTo) implements Command {}

  /** The reply to a write: the workspace version that contains it. */
  public record Written(String path, long version) implements TetherSerializable {}

  /** The reply to {@link GetFiles}. */
  public record Files(long version, Map<String, String> files) implements TetherSerializable {}

  /** What happened to the workspace. */
  public sealed interface Event extends TetherSerializable permits FileWritten {}

  /** A file was written. */
  public record FileWritten(String path, String content, String author) implements Event {}

  /** The files and the number of writes so far. */
  public record State(long version, Map<String, String> files) implements TetherSerializable {
    static State empty() {
      return new State(0, Map.of());
    }

    State with(String path, String content) {
      Map<String, String> next = new TreeMap<>(files);
      next.put(path, content);
      return new State(version + 1, Map.copyOf(next));
    }
  }

  private final int maxFileBytes;
  private final int maxFiles;

  private Workspace(PersistenceId id, int maxFileBytes, int maxFiles) {
    super(id);
    this.maxFileBytes = maxFileBytes;
    this.maxFiles = maxFiles;
  }

  /** The workspace of run {@code runId}. */
  public static Behavior<Command> create(String runId, int maxFileBytes, int maxFiles) {
    return new Workspace(PersistenceId.of(ENTITY_TYPE_KEY.name(), runId), maxFileBytes, maxFiles);
  }

  /** Registers the entity with cluster sharding. */
  public static void init(ActorSystem<?> system) {
    var config = system.settings().config().getConfig("tether.harness.workspace");
    int maxFileBytes = (int) config.getBytes("max-file-bytes").longValue();
    int maxFiles = config.getInt("max-files");
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
        ctx -> create(ctx.getEntityId(), maxFileBytes, maxFiles)));
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(WriteFile.class, this::onWrite)
        .onCommand(GetFiles.class, (state, cmd) ->
            Effect().reply(cmd.replyTo(), new Files(state.version(), state.files())))
        .build();
  }

  private ReplyEffect<Event, State> onWrite(
      State state, WriteFile cmd) {
    try {
      WorkspacePaths.validate(cmd.path());
    } catch (WorkspacePaths.PathEscapeException e) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(e.getMessage()));
    }
    if (cmd.content().getBytes(StandardCharsets.UTF_8).length > maxFileBytes) {
      return Effect().reply(cmd.replyTo(),
          StatusReply.error("file larger than " + maxFileBytes + " bytes: " + cmd.path()));
    }
    if (!state.files().containsKey(cmd.path()) && state.files().size() >= maxFiles) {
      return Effect().reply(cmd.replyTo(),
          StatusReply.error("the workspace holds its maximum of " + maxFiles + " files"));
    }
    return Effect().persist(new FileWritten(cmd.path(), cmd.content(), cmd.author()))
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Written(cmd.path(), s.version())));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(FileWritten.class, (state, e) -> state.with(e.path(), e.content()))
        .build();
  }
}
