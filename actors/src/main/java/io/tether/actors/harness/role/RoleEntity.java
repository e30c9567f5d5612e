package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.role.RoleCommand.CancelTask;
import io.tether.actors.harness.role.RoleCommand.GetState;
import io.tether.actors.harness.role.RoleCommand.Perform;
import io.tether.actors.harness.role.RoleEvent.ModelCallCompleted;
import io.tether.actors.harness.role.RoleEvent.ModelCallRequested;
import io.tether.actors.harness.role.RoleEvent.ModelCallRetried;
import io.tether.actors.harness.role.RoleEvent.TaskCancelled;
import io.tether.actors.harness.role.RoleEvent.TaskCompleted;
import io.tether.actors.harness.role.RoleEvent.TaskFailed;
import io.tether.actors.harness.role.RoleEvent.TaskReported;
import io.tether.actors.harness.role.RoleEvent.TaskStarted;
import io.tether.actors.harness.role.RoleEvent.ToolCallCompleted;
import io.tether.actors.harness.role.RoleEvent.ToolCallInDoubt;
import io.tether.actors.harness.role.RoleEvent.ToolCallRequested;
import io.tether.actors.harness.role.RoleState.PendingCall;
import io.tether.actors.harness.role.ToolLoop.BudgetAnswered;
import io.tether.actors.harness.role.ToolLoop.Continue;
import io.tether.actors.harness.role.ToolLoop.ModelCallFinished;
import io.tether.actors.harness.role.ToolLoop.ReportAnswered;
import io.tether.actors.harness.role.ToolLoop.ToolCallFinished;
import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.logging.EntityMdc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The engine of a harness role ({@link Planner}, {@link Generator}, {@link Evaluator}): one
 * event-sourced conversation per role and run, performing one {@link RoleTask} at a time as a
 * loop of model calls and tool calls ({@link ToolLoop}). This class is the task's lifecycle:
 * accepting it, cancelling it, and picking it up again after a restart.
 *
 * <p>Write-ahead: a model call is persisted as {@link ModelCallRequested} before it starts and
 * {@link ModelCallCompleted} after; a tool call as {@link ToolCallRequested} and {@link
 * ToolCallCompleted}. On recovery a completed call is never repeated (its result is in the
 * conversation); a model call that was in flight is re-issued and recorded as {@link
 * ModelCallRetried}; a tool call that was in flight is recorded as {@link ToolCallInDoubt} and the
 * model is told so in the tool's result, since the tool may or may not have taken effect.
 * Before each model call the Run is asked for budget; after it the usage is settled with the
 * Run. Model streams and tools run in futures piped back to the entity; nothing blocks it. The
 * role writes its own output (deltas, tool calls and results) into the run's session ({@link
 * RoleOutput}); a cancelled task's stream is fenced at once.
 *
 * <p>Its protocol is {@link RoleCommand}, its journal {@link RoleEvent}, its state {@link
 * RoleState}.
 */
public final class RoleEntity
    extends EventSourcedBehaviorWithEnforcedReplies<RoleCommand, RoleEvent, RoleState> {

  /** Recovery has finished (sent to itself). */
  enum Recovered implements RoleCommand { INSTANCE }

  private final RoleProfile profile;
  private final String runId;
  private final ActorContext<RoleCommand> context;
  private final RoleOutput output;
  private final ToolLoop loop;
  private final int snapshotEvery;

  private RoleEntity(PersistenceId id, RoleProfile profile, String runId, RoleServices services,
      ActorContext<RoleCommand> context, TimerScheduler<RoleCommand> timers) {
    super(id);
    this.profile = profile;
    this.runId = runId;
    this.context = context;
    this.snapshotEvery = services.settings().snapshotEvery();
    this.output = new RoleOutput(runId, profile, services.sessions());
    this.loop = new ToolLoop(profile, runId, services, output, context, timers, Effect());
  }

  /** The behavior of {@code profile}'s role for run {@code runId}; its logs carry {@code runId}. */
  public static Behavior<RoleCommand> create(EntityTypeKey<RoleCommand> key, RoleProfile profile,
      String runId, RoleServices services) {
    return EntityMdc.withMdc(Map.of("runId", runId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RoleEntity(
            PersistenceId.of(key.name(), runId), profile, runId, services, ctx, timers))));
  }

  /** Registers the role {@code profile} as entity type {@code key} with cluster sharding. */
  public static void init(ActorSystem<?> system, EntityTypeKey<RoleCommand> key,
      RoleProfile profile, RoleServices services) {
    ClusterSharding.get(system).init(Entity.of(key,
        ctx -> create(key, profile, ctx.getEntityId(), services)));
  }

  @Override
  public RoleState emptyState() {
    return RoleState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  @Override
  public SignalHandler<RoleState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> context.getSelf().tell(Recovered.INSTANCE))
        // Stopped here (passivated, handed to another node, or the node shutting down): the
        // processes its tasks started on this node go too.
        .onSignal(PostStop.instance(), state -> loop.releaseProcesses())
        .build();
  }

  @Override
  public CommandHandlerWithReply<RoleCommand, RoleEvent, RoleState> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Perform.class, this::onPerform)
        .onCommand(CancelTask.class, this::onCancel)
        .onCommand(GetState.class, this::onGetState)
        .onCommand(Recovered.class, this::onRecovered)
        .onCommand(Continue.class, (state, cmd) -> loop.step(state))
        .onCommand(BudgetAnswered.class, loop::onBudget)
        .onCommand(ModelCallFinished.class, loop::onModelCallFinished)
        .onCommand(ToolCallFinished.class, loop::onToolCallFinished)
        .onCommand(ReportAnswered.class, loop::onReportAnswered)
        .build();
  }

  private ReplyEffect<RoleEvent, RoleState> onPerform(RoleState state, Perform cmd) {
    RoleTask task = cmd.task();
    StatusReply<Accepted> ok = StatusReply.success(new Accepted(task.taskId()));
    if (task.role() != profile.role() || !task.runId().equals(runId)) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "task " + task.taskId() + " is not for " + profile.role() + "/" + runId));
    }
    boolean known = state.task() != null && state.task().taskId().equals(task.taskId());
    if (known || state.finishedTaskIds().contains(task.taskId())) {
      context.getSelf().tell(Continue.INSTANCE);
      return Effect().reply(cmd.replyTo(), ok);
    }
    List<RoleEvent> events = new ArrayList<>();
    if (state.active()) {
      events.add(new TaskCancelled(state.task().taskId(), "superseded by " + task.taskId()));
    }
    events.add(new TaskStarted(task));
    return Effect().persist(events)
        .thenRun(s -> {
          loop.taskEnded();
          loop.releaseProcesses();
          output.steersAcknowledged(task);
          context.getSelf().tell(Continue.INSTANCE);
        })
        .thenReply(cmd.replyTo(), s -> ok);
  }

  private ReplyEffect<RoleEvent, RoleState> onCancel(RoleState state, CancelTask cmd) {
    StatusReply<Accepted> ok = StatusReply.success(new Accepted(cmd.taskId()));
    if (!state.active() || !state.task().taskId().equals(cmd.taskId())) {
      return Effect().reply(cmd.replyTo(), ok);
    }
    PendingCall streaming = state.pendingCall();
    return Effect().persist(new TaskCancelled(cmd.taskId(), "cancelled by the run"))
        .thenRun(s -> {
          boolean modelInFlight = loop.modelInFlight();
          loop.taskEnded();
          loop.releaseProcesses();
          if (modelInFlight && streaming != null) {
            output.messageCancelled(s.task(), streaming);
          }
        })
        .thenReply(cmd.replyTo(), s -> ok);
  }

  private ReplyEffect<RoleEvent, RoleState> onGetState(RoleState state, GetState cmd) {
    return Effect().reply(cmd.replyTo(), state);
  }

  /**
   * After a restart: a model call that was in flight is re-issued (as a retry), a tool call that
   * was in flight is in doubt; then the loop goes on.
   */
  private ReplyEffect<RoleEvent, RoleState> onRecovered(RoleState state, Recovered cmd) {
    if (!state.active()) {
      context.getSelf().tell(Continue.INSTANCE);
      return Effect().noReply();
    }
    List<RoleEvent> events = new ArrayList<>();
    if (state.pendingCall() != null) {
      events.add(new ModelCallRetried(state.pendingCall().callId(),
          state.pendingCall().attempt() + 1, "re-issued after recovery"));
    }
    if (state.requestedToolId() != null) {
      events.add(new ToolCallInDoubt(state.requestedToolId()));
    }
    if (events.isEmpty()) {
      context.getSelf().tell(Continue.INSTANCE);
      return Effect().noReply();
    }
    PendingCall interruptedCall = state.pendingCall();
    ToolCall interruptedTool = state.requestedTool();
    return Effect().persist(events)
        .thenRun(s -> {
          output.interrupted(s.task(), interruptedCall, interruptedTool);
          if (interruptedCall != null) {
            loop.chargeCutOff(s, interruptedCall);
          }
          if (s.pendingCall() != null) {
            loop.issueModelCall(s);
          } else {
            context.getSelf().tell(Continue.INSTANCE);
          }
        })
        .thenNoReply();
  }

  @Override
  public EventHandler<RoleState, RoleEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(TaskStarted.class, RoleState::apply)
        .onEvent(ModelCallRequested.class, RoleState::apply)
        .onEvent(ModelCallRetried.class, RoleState::apply)
        .onEvent(ModelCallCompleted.class, RoleState::apply)
        .onEvent(ToolCallRequested.class, RoleState::apply)
        .onEvent(ToolCallCompleted.class, RoleState::apply)
        .onEvent(ToolCallInDoubt.class, RoleState::apply)
        .onEvent(TaskCompleted.class, RoleState::apply)
        .onEvent(TaskFailed.class, RoleState::apply)
        .onEvent(TaskCancelled.class, RoleState::apply)
        .onEvent(TaskReported.class, RoleState::apply)
        .onEvent(RoleEvent.CompactionRequested.class, RoleState::apply)
        .onEvent(RoleEvent.ContextCompacted.class, RoleState::apply)
        .build();
  }
}
