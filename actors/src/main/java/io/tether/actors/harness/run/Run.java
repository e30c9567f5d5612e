package io.tether.actors.harness.run;

import io.tether.actors.harness.run.RunCommand.Cancel;
import io.tether.actors.harness.run.RunCommand.Describe;
import io.tether.actors.harness.run.RunCommand.Pause;
import io.tether.actors.harness.run.RunCommand.ReportTask;
import io.tether.actors.harness.run.RunCommand.ReserveBudget;
import io.tether.actors.harness.run.RunCommand.Resume;
import io.tether.actors.harness.run.RunCommand.SettleUsage;
import io.tether.actors.harness.run.RunCommand.Start;
import io.tether.actors.harness.run.RunCommand.SteerRun;
import io.tether.actors.harness.run.RunEvent.BuildReported;
import io.tether.actors.harness.run.RunEvent.ContractProposed;
import io.tether.actors.harness.run.RunEvent.ContractReviewed;
import io.tether.actors.harness.run.RunEvent.PhaseEntered;
import io.tether.actors.harness.run.RunEvent.RunEnded;
import io.tether.actors.harness.run.RunEvent.RunPaused;
import io.tether.actors.harness.run.RunEvent.RunResumed;
import io.tether.actors.harness.run.RunEvent.RunStarted;
import io.tether.actors.harness.run.RunEvent.SpecAccepted;
import io.tether.actors.harness.run.RunEvent.SprintEvaluated;
import io.tether.actors.harness.run.RunEvent.SteerReceived;
import io.tether.actors.harness.run.RunEvent.TaskDispatched;
import io.tether.actors.harness.run.RunEvent.UsageSettled;
import io.tether.actors.harness.task.Accepted;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.logging.EntityMdc;
import io.tether.actors.metrics.TetherMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
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
 * A harness run: the state machine (planning; per sprint contract proposal and review, building,
 * evaluation; then the next sprint or the end) and the budget ledger. It hands one {@link
 * RoleTask} at a time to a role, asks {@link RunFlow} what the result means, and persists the
 * answer; {@link RunPublisher} then writes the hand-off files into the workspace and the run's
 * progress (phases, contract states, scores, budget, control acknowledgements) into the run's
 * session. The roles write their own output there themselves.
 *
 * <p>Every model call of a role is checked against the budget before it starts ({@link
 * ReserveBudget}) and settled after ({@link SettleUsage}, idempotent per call). A run that hits a
 * limit ends as {@code BUDGET_EXHAUSTED} with its partial results. Cancel ends the run at once,
 * cancels the active task and refuses every later model call; pause holds the next task until
 * resume; steer messages go with the next task. A task is re-sent until its role acknowledges
 * it, and again after the Run recovers, which is safe because roles perform a task once.
 *
 * <p>Its protocol is {@link RunCommand}, its journal {@link RunEvent}, its state {@link RunState}.
 */
public final class Run
    extends EventSourcedBehaviorWithEnforcedReplies<RunCommand, RunEvent, RunState> {

  /** The sharded entity type. */
  public static final EntityTypeKey<RunCommand> ENTITY_TYPE_KEY =
      EntityTypeKey.create(RunCommand.class, "Run");

  /** Re-sends the current task (the Run's own timer). */
  enum Redispatch implements RunCommand { INSTANCE }

  /** A role answered a dispatch (piped to the Run). */
  record DispatchAnswered(String taskId, boolean accepted) implements RunCommand {}

  private final String runId;
  private final RunServices services;
  private final ActorContext<RunCommand> context;
  private final TimerScheduler<RunCommand> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final RunPublisher publisher;
  private final org.slf4j.Logger log;
  private ActorRef<SessionControls.Command> controls;
  private EventHandler<RunState, RunEvent> events;

  private Run(String runId, RunServices services, ActorContext<RunCommand> context,
      TimerScheduler<RunCommand> timers, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), runId));
    this.runId = runId;
    this.services = services;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.log = context.getLog();
    this.publisher = new RunPublisher(runId, services, TetherMetrics.get(context.getSystem()),
        log);
    // A role whose node died recovers only when messaged: re-sending the current task (which a
    // role performs at most once) brings it back.
    timers.startTimerWithFixedDelay(Redispatch.INSTANCE, services.settings().taskCheckInterval());
  }

  /** The run {@code runId}, outside sharding (tests). */
  public static Behavior<RunCommand> create(String runId, RunServices services) {
    return create(runId, services, null);
  }

  /** The run {@code runId}; an ended run passivates itself through {@code shard}. */
  public static Behavior<RunCommand> create(String runId, RunServices services,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return EntityMdc.withMdc(Map.of("runId", runId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
            new Run(runId, services, ctx, timers, shard))));
  }

  /**
   * Registers the entity with cluster sharding. With {@code rememberRuns}, runs are remembered
   * while they run, so a run whose node fails restarts on another node without a client asking
   * for it; an ended run passivates itself and is forgotten.
   */
  public static void init(ActorSystem<?> system, RunServices services, boolean rememberRuns) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
            ctx -> create(ctx.getEntityId(), services, ctx.getShard()))
        .withSettings(ClusterShardingSettings.create(system)
            .withRememberEntities(rememberRuns)));
  }

  @Override
  public RunState emptyState() {
    return RunState.empty(runId);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(services.settings().snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<RunState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state.currentTask() != null && !state.progress().phase().terminal()) {
            context.getSelf().tell(Redispatch.INSTANCE);
          }
          followSession(state);
          if (state.started()) {
            passivateUnlessRunning(state);
          }
        })
        .build();
  }

  // ---------------------------------------------------------------- commands

  @Override
  public CommandHandlerWithReply<RunCommand, RunEvent, RunState> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Describe.class, this::onDescribe)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(SteerRun.class, this::onSteer)
        .onCommand(ReserveBudget.class, this::onReserve)
        .onCommand(SettleUsage.class, this::onSettle)
        .onCommand(ReportTask.class, this::onReport)
        .onCommand(Redispatch.class, this::onRedispatch)
        .onCommand(DispatchAnswered.class, this::onDispatchAnswered)
        .build();
  }

  private ReplyEffect<RunEvent, RunState> onStart(RunState s, Start c) {
    if (s.started()) {
      return Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)));
    }
    String refusal = RunFlow.refusal(c);
    if (refusal != null) {
      return Effect().reply(c.replyTo(), StatusReply.error(refusal));
    }
    List<RunEvent> events = withNextTask(s, RunFlow.start(c, System.currentTimeMillis()));
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> StatusReply.success(RunSummary.of(next)));
  }

  private ReplyEffect<RunEvent, RunState> onDescribe(RunState s, Describe c) {
    return s.started()
        ? Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)))
        : Effect().none().thenRun(this::passivateUnlessRunning)
            .thenReply(c.replyTo(), x -> StatusReply.error("no run " + runId));
  }

  private ReplyEffect<RunEvent, RunState> onCancel(RunState s, Cancel c) {
    if (!s.started()) {
      return Effect().none().thenRun(this::passivateUnlessRunning)
          .thenReply(c.replyTo(), x -> StatusReply.error("no run " + runId));
    }
    if (s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)));
    }
    String reason = c.reason() == null || c.reason().isBlank() ? "cancelled by a client"
        : c.reason();
    List<RunEvent> events = List.of(new RunEnded(Phase.CANCELLED, reason));
    RoleTask active = s.currentTask();
    return Effect().persist(events)
        .thenRun(next -> {
          publisher.controlAcknowledged(next, "cancel",
              c.controlId() != null ? c.controlId() : "cancel-" + runId, true, null);
          if (active != null) {
            services.roles().cancel(active.role(), runId, active.taskId());
          }
          afterPersist(s, next, events);
        })
        .thenReply(c.replyTo(), next -> StatusReply.success(RunSummary.of(next)));
  }

  private ReplyEffect<RunEvent, RunState> onPause(RunState s, Pause c) {
    if (!s.running()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (s.progress().paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)));
    }
    return Effect().persist(new RunPaused())
        .thenRun(next -> publisher.controlAcknowledged(next, "pause",
            "pause-" + UUID.randomUUID(), true, null))
        .thenReply(c.replyTo(), next -> StatusReply.success(RunSummary.of(next)));
  }

  private ReplyEffect<RunEvent, RunState> onResume(RunState s, Resume c) {
    if (!s.running()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (!s.progress().paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)));
    }
    List<RunEvent> resumed = List.of(new RunResumed());
    // A task in progress when the run was paused goes on; otherwise the next one goes out now.
    List<RunEvent> events = s.currentTask() == null ? withNextTask(s, resumed) : resumed;
    return Effect().persist(events)
        .thenRun(next -> {
          publisher.controlAcknowledged(next, "resume", "resume-" + UUID.randomUUID(), true,
              null);
          afterPersist(s, next, events);
        })
        .thenReply(c.replyTo(), next -> StatusReply.success(RunSummary.of(next)));
  }

  private ReplyEffect<RunEvent, RunState> onSteer(RunState s, SteerRun c) {
    if (!s.running()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (c.text() == null || c.text().isBlank()) {
      return Effect().reply(c.replyTo(), StatusReply.error("a steer message needs text"));
    }
    if (c.controlId() != null && s.steerIds().contains(c.controlId())) {
      return Effect().reply(c.replyTo(), StatusReply.success(RunSummary.of(s)));
    }
    String id = c.controlId() != null ? c.controlId() : "steer-" + UUID.randomUUID();
    return Effect().persist(new SteerReceived(id, c.text()))
        .thenRun(next -> publisher.controlAcknowledged(next, "steer", id, false, c.text()))
        .thenReply(c.replyTo(), next -> StatusReply.success(RunSummary.of(next)));
  }

  private ReplyEffect<RunEvent, RunState> onReserve(RunState s, ReserveBudget c) {
    if (!s.started()) {
      return Effect().none().thenRun(this::passivateUnlessRunning)
          .thenReply(c.replyTo(), x -> BudgetDecision.refuse("no run " + runId));
    }
    if (s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), BudgetDecision.refuse(
          "the run has ended: " + s.progress().phase().name().toLowerCase()));
    }
    String exceeded = RunFlow.exceeded(s, System.currentTimeMillis());
    if (exceeded != null) {
      List<RunEvent> events = List.of(new RunEnded(Phase.BUDGET_EXHAUSTED, exceeded));
      return Effect().persist(events)
          .thenRun(next -> afterPersist(s, next, events))
          .thenReply(c.replyTo(), next -> BudgetDecision.refuse(exceeded));
    }
    return Effect().reply(c.replyTo(), BudgetDecision.grant());
  }

  private ReplyEffect<RunEvent, RunState> onSettle(RunState s, SettleUsage c) {
    if (!s.started() || s.ledger().settled().contains(c.callId())) {
      return Effect().reply(c.replyTo(), Ack.INSTANCE);
    }
    double usd = services.pricing().usd(c.model(), c.usage(), s.setup().policy().prices());
    List<RunEvent> events = List.of(new UsageSettled(c.callId(), c.role(), c.model(),
        c.usage().inputTokens(), c.usage().outputTokens(), usd,
        c.sprint() >= 0 ? c.sprint() : null, c.estimated()));
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> Ack.INSTANCE);
  }

  private ReplyEffect<RunEvent, RunState> onReport(RunState s, ReportTask c) {
    RoleTask task = s.currentTask();
    if (task == null || !task.taskId().equals(c.outcome().taskId())
        || s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), Ack.INSTANCE);
    }
    List<RunEvent> events = withNextTask(s, RunFlow.afterTask(s, task, c.outcome()));
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> Ack.INSTANCE);
  }

  private ReplyEffect<RunEvent, RunState> onRedispatch(RunState s, Redispatch c) {
    if (s.currentTask() != null && !s.progress().phase().terminal()) {
      dispatch(s.currentTask());
    }
    return Effect().noReply();
  }

  private ReplyEffect<RunEvent, RunState> onDispatchAnswered(RunState s, DispatchAnswered c) {
    if (!c.accepted() && s.currentTask() != null
        && s.currentTask().taskId().equals(c.taskId())) {
      timers.startSingleTimer(Redispatch.INSTANCE, services.settings().redeliverAfter());
    }
    return Effect().noReply();
  }

  /** {@code events}, and the next task's dispatch if the run goes on (not ended, not paused). */
  private List<RunEvent> withNextTask(RunState s, List<RunEvent> events) {
    List<RunEvent> all = new ArrayList<>(events);
    RunState after = s;
    for (RunEvent e : events) {
      after = events().apply(after, e);
    }
    if (!after.progress().phase().terminal() && !after.progress().paused()) {
      all.add(new TaskDispatched(RunFlow.taskFor(after, RunFlow.nextTaskId(after))));
    }
    return all;
  }

  // ---------------------------------------------------------------- side effects

  /** Publishes what was just persisted, then dispatches the task it dispatched, if any. */
  private void afterPersist(RunState before, RunState after, List<RunEvent> events) {
    followSession(after);
    CompletionStage<Void> written = publisher.published(before, after, events, events()::apply);
    if (after.progress().phase().terminal() && !before.progress().phase().terminal()) {
      passivateUnlessRunning(after);
    }
    if (events.stream().anyMatch(e -> e instanceof TaskDispatched)) {
      // The role reads the hand-off files the events wrote, so the task goes once they are.
      written.whenComplete((ok, error) -> context.getSelf().tell(Redispatch.INSTANCE));
    }
  }

  private void dispatch(RoleTask task) {
    CompletionStage<Accepted> answer;
    try {
      answer = services.roles().perform(task);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(answer, (ok, error) -> {
      if (error != null) {
        log.info("run {}: task {} not yet accepted by the {}: {}", runId,
            task.taskId(), task.role().wireName(), error.toString());
      }
      return new DispatchAnswered(task.taskId(), error == null);
    });
  }

  /** Follows the run's session for controls while the run runs, and stops following after. */
  private void followSession(RunState state) {
    boolean running = state.running();
    if (running && controls == null && services.followSessionControls()) {
      controls = context.spawn(SessionControls.create(runId, state.setup().sessionId(),
          context.getSelf(), services.settings().taskCheckInterval()), "session-controls");
    } else if (!running && controls != null) {
      controls.tell(SessionControls.Stop.INSTANCE);
      controls = null;
    }
  }

  /**
   * Stops an ended run, or an id that was asked about but never started, so that neither stays
   * remembered by sharding.
   */
  private void passivateUnlessRunning(RunState state) {
    if (shard != null && !state.running()) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }

  // ---------------------------------------------------------------- events

  @Override
  public EventHandler<RunState, RunEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(RunStarted.class, RunState::apply)
        .onEvent(TaskDispatched.class, RunState::apply)
        .onEvent(SpecAccepted.class, RunState::apply)
        .onEvent(ContractProposed.class, RunState::apply)
        .onEvent(ContractReviewed.class, RunState::apply)
        .onEvent(BuildReported.class, RunState::apply)
        .onEvent(SprintEvaluated.class, RunState::apply)
        .onEvent(PhaseEntered.class, RunState::apply)
        .onEvent(RunPaused.class, RunState::apply)
        .onEvent(RunResumed.class, RunState::apply)
        .onEvent(SteerReceived.class, RunState::apply)
        .onEvent(UsageSettled.class, RunState::apply)
        .onEvent(RunEnded.class, RunState::apply)
        .build();
  }

  /** The event handler, built once, for folding events the Run is about to persist. */
  private EventHandler<RunState, RunEvent> events() {
    if (events == null) {
      events = eventHandler();
    }
    return events;
  }
}
