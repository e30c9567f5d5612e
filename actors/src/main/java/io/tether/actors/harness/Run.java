package io.tether.actors.harness;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.session.ProducerStream;
import io.tether.actors.harness.session.SessionEvents;
import io.tether.actors.harness.session.SessionWriter;
import io.tether.actors.harness.workspace.WorkspaceStore;
import io.tether.actors.logging.EntityMdc;
import io.tether.actors.metrics.TetherMetrics;
import io.tether.persistence.TetherSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
 * RoleTask} at a time to a role, interprets the result through {@link RunFlow}, writes the
 * hand-off files into the workspace, and writes its own progress (phases, contract states,
 * scores, budget, control acknowledgements) into the run's session; the roles write their own
 * output there themselves.
 *
 * <p>Every model call of a role is checked against the budget before it starts ({@link
 * ReserveBudget}) and settled after ({@link SettleUsage}, idempotent per call). A run that hits a
 * limit ends as {@code BUDGET_EXHAUSTED} with its partial results. Cancel ends the run at once,
 * cancels the active task and refuses every later model call; pause holds the next task until
 * resume; steer messages go with the next task. A task is re-sent until its role acknowledges
 * it, and again after the Run recovers, which is safe because roles perform a task once.
 */
public final class Run
    extends EventSourcedBehaviorWithEnforcedReplies<Run.Command, Run.Event, Run.State> {

  /** The sharded entity type. */
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Run");

  // ---------------------------------------------------------------- protocol

  /** Messages a run accepts. */
  public sealed interface Command extends TetherSerializable
      permits Start, Describe, Cancel, Pause, Resume, SteerRun, ReserveBudget, SettleUsage,
          ReportTask, Redispatch, DispatchAnswered {}

  /** Starts the run (idempotent: a started run answers with its summary). */
  public record Start(String prompt, Map<String, String> models, RunPolicy policy,
      String sessionId, ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Asks for the run's summary. */
  public record Describe(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Cancels the run; {@code controlId} names the session control it answers, if any. */
  public record Cancel(String reason, String controlId, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /** Holds the run before its next task. */
  public record Pause(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Lets a paused run go on. */
  public record Resume(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Adds a human message to the next role task. */
  public record SteerRun(String text, String controlId, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /** A steer message waiting for the next role task, with the control id that acknowledges it. */
  public record Steer(String id, String text) implements TetherSerializable {}

  /** Asks whether a model call may start. */
  public record ReserveBudget(String callId, Role role, String model,
      ActorRef<BudgetDecision> replyTo) implements Command {}

  /** Settles a completed model call's usage (idempotent per call id). */
  public record SettleUsage(String callId, Role role, String model, TokenUsage usage,
      ActorRef<Ack> replyTo) implements Command {}

  /** A role reports a task's end (idempotent per task id). */
  public record ReportTask(TaskOutcome outcome, ActorRef<Ack> replyTo) implements Command {}

  /** Re-sends the current task (internal). */
  enum Redispatch implements Command { INSTANCE }

  /** A role answered a dispatch (internal). */
  record DispatchAnswered(String taskId, boolean accepted) implements Command {}

  /** The answer to {@link ReserveBudget}. */
  public record BudgetDecision(boolean granted, String reason) implements TetherSerializable {}

  /** The acknowledgement of {@link SettleUsage} and {@link ReportTask}. */
  public enum Ack implements TetherSerializable { INSTANCE }

  /** How a role's task ended: its output, or why it failed. */
  public record TaskOutcome(String taskId, Role role, boolean succeeded, String output)
      implements TetherSerializable {}

  /** One evaluated attempt of a sprint. */
  public record SprintResult(int sprint, int attempt, Map<String, Double> scores,
      double weighted, boolean passed) implements TetherSerializable {}

  /** What a client sees of a run. */
  public record Summary(
      String runId,
      String sessionId,
      String prompt,
      Phase phase,
      int sprint,
      int attempt,
      int round,
      boolean paused,
      List<String> sprints,
      List<SprintResult> results,
      long inputTokens,
      long outputTokens,
      double usd,
      Map<String, String> models,
      boolean scripted,
      String activeRole,
      String activeTask,
      String outcome,
      String report) implements TetherSerializable {}

  // ---------------------------------------------------------------- events

  /** What happened to a run. */
  public sealed interface Event extends TetherSerializable
      permits RunStarted, TaskDispatched, SpecAccepted, ContractProposed, ContractReviewed,
          BuildReported, SprintEvaluated, PhaseEntered, RunPaused, RunResumed, SteerReceived,
          UsageSettled, RunEnded {}

  /** The run started. */
  public record RunStarted(String prompt, Map<String, String> models, RunPolicy policy,
      String sessionId, long startedAtMillis) implements Event {}

  /** A task was handed to a role (and the pending steers with it). */
  public record TaskDispatched(RoleTask task) implements Event {}

  /** The planner's spec was accepted, split into these sprints. */
  public record SpecAccepted(String spec, List<String> sprints) implements Event {}

  /** The generator proposed a sprint contract. */
  public record ContractProposed(int sprint, int round, String contract) implements Event {}

  /** The evaluator reviewed the contract; forced = building without agreement. */
  public record ContractReviewed(int sprint, int round, boolean agreed, String comments,
      boolean forced) implements Event {}

  /** The generator finished a build attempt. */
  public record BuildReported(int sprint, int attempt, String summary) implements Event {}

  /** The evaluator's scores, checked against the rubric's thresholds. */
  public record SprintEvaluated(int sprint, int attempt, Map<String, Double> scores,
      double weighted, boolean passed, List<String> misses, String feedback) implements Event {}

  /** The run moved to a phase. */
  public record PhaseEntered(Phase phase, int sprint, int attempt, int round) implements Event {}

  /** The run was paused. */
  public record RunPaused() implements Event {}

  /** The run was resumed. */
  public record RunResumed() implements Event {}

  /** A human steer message arrived. */
  public record SteerReceived(String controlId, String text) implements Event {}

  /** A model call's usage was settled. */
  public record UsageSettled(String callId, Role role, String model, long inputTokens,
      long outputTokens, double usd) implements Event {}

  /** The run ended: completed, failed, cancelled or budget-exhausted. */
  public record RunEnded(Phase outcome, String reason) implements Event {}

  // ---------------------------------------------------------------- state

  /** Where a run is. */
  public enum Phase {
    NEW, PLANNING, CONTRACT_PROPOSAL, CONTRACT_REVIEW, BUILDING, EVALUATING,
    COMPLETED, FAILED, CANCELLED, BUDGET_EXHAUSTED;

    /** Whether the run has ended. */
    public boolean terminal() {
      return this == COMPLETED || this == FAILED || this == CANCELLED || this == BUDGET_EXHAUSTED;
    }
  }

  /** What a run was started with. */
  public record Setup(String prompt, String sessionId, Map<String, String> models,
      RunPolicy policy, long startedAtMillis) implements TetherSerializable {}

  /** The run's position in its flow. */
  public record Progress(Phase phase, int sprint, int attempt, int round, boolean paused)
      implements TetherSerializable {}

  /** The hand-off material: spec, sprints, the current contract, the latest review and feedback. */
  public record Artifacts(String spec, List<String> sprints, String contract,
      String contractComments, String feedback, String buildSummary)
      implements TetherSerializable {}

  /** The budget ledger. */
  public record Ledger(long inputTokens, long outputTokens, double usd, Set<String> settled)
      implements TetherSerializable {

    Ledger plus(UsageSettled u) {
      Set<String> next = new HashSet<>(settled);
      next.add(u.callId());
      return new Ledger(inputTokens + u.inputTokens(), outputTokens + u.outputTokens(),
          usd + u.usd(), Set.copyOf(next));
    }
  }

  /** A run's state. */
  public record State(
      String runId,
      Setup setup,
      Progress progress,
      Artifacts artifacts,
      RoleTask currentTask,
      long taskSeq,
      List<Steer> pendingSteers,
      List<SprintResult> results,
      Ledger ledger,
      String outcome,
      List<String> steerIds) implements TetherSerializable {

    /** Steer control ids remembered, so a steer replayed from the session applies once. */
    static final int MAX_STEER_IDS = 500;

    static State empty(String runId) {
      return new State(runId, null, new Progress(Phase.NEW, 0, 0, 0, false),
          new Artifacts(null, List.of(), null, null, null, null), null, 0, List.of(), List.of(),
          new Ledger(0, 0, 0, Set.of()), null, List.of());
    }

    boolean started() {
      return setup != null;
    }

    State withProgress(Progress p) {
      return new State(runId, setup, p, artifacts, currentTask, taskSeq, pendingSteers, results,
          ledger, outcome, steerIds);
    }

    State withArtifacts(Artifacts a) {
      return new State(runId, setup, progress, a, currentTask, taskSeq, pendingSteers, results,
          ledger, outcome, steerIds);
    }

    State finishedTask() {
      return new State(runId, setup, progress, artifacts, null, taskSeq, pendingSteers, results,
          ledger, outcome, steerIds);
    }

    Summary summary() {
      boolean scripted = setup != null && setup.models().values().stream()
          .anyMatch(m -> ModelRef.parse(m).provider().equals(ScriptedProvider.NAME));
      return new Summary(runId, setup == null ? null : setup.sessionId(),
          setup == null ? null : setup.prompt(), progress.phase(), progress.sprint(),
          progress.attempt(), progress.round(), progress.paused(), artifacts.sprints(), results,
          ledger.inputTokens(), ledger.outputTokens(), ledger.usd(),
          setup == null ? Map.of() : setup.models(), scripted,
          currentTask == null ? null : currentTask.role().wireName(),
          currentTask == null ? null : currentTask.kind().name().toLowerCase(), outcome,
          progress.phase().terminal() ? RunFlow.report(this, progress.phase(),
              outcome == null ? "" : outcome) : null);
    }
  }

  /**
   * The collaborators of a run.
   *
   * @param followSessionControls whether the run follows its Session entity for the cancels and
   *     steers clients send through it (off where there is no Session entity: tests)
   */
  public record Services(RoleDispatch roles, WorkspaceStore workspace, SessionWriter sessions,
      Pricing pricing, HarnessSettings settings, boolean followSessionControls) {}

  // ---------------------------------------------------------------- behavior

  private final String runId;
  private final Services services;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final org.slf4j.Logger log;
  private ProducerStream stream;
  private ActorRef<SessionControls.Command> controls;

  private Run(String runId, Services services, ActorContext<Command> context,
      TimerScheduler<Command> timers, ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), runId));
    this.runId = runId;
    this.services = services;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.log = context.getLog();
    // A role whose node died recovers only when messaged: re-sending the current task (which a
    // role performs at most once) brings it back.
    timers.startTimerWithFixedDelay(Redispatch.INSTANCE, services.settings().taskCheckInterval());
  }

  /** The run {@code runId}, outside sharding (tests). */
  public static Behavior<Command> create(String runId, Services services) {
    return create(runId, services, null);
  }

  /** The run {@code runId}; an ended run passivates itself through {@code shard}. */
  public static Behavior<Command> create(String runId, Services services,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return EntityMdc.withMdc(Map.of("runId", runId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
            new Run(runId, services, ctx, timers, shard))));
  }

  /**
   * Registers the entity with cluster sharding. Runs are remembered while they run, so a run
   * whose node fails restarts on another node without a client asking for it; an ended run
   * passivates itself and is forgotten.
   */
  public static void init(ActorSystem<?> system) {
    Services services = Harness.get(system).runServices();
    boolean remember = system.settings().config().getBoolean("tether.harness.remember-runs");
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
            ctx -> create(ctx.getEntityId(), services, ctx.getShard()))
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(remember)));
  }

  /**
   * Stops an ended run, or an id that was asked about but never started, so that neither stays
   * remembered by sharding.
   */
  private void followSession(State state) {
    boolean running = state.started() && !state.progress().phase().terminal();
    if (running && controls == null && services.followSessionControls()) {
      controls = context.spawn(SessionControls.create(runId, state.setup().sessionId(),
          context.getSelf(), services.settings().taskCheckInterval()), "session-controls");
    } else if (!running && controls != null) {
      controls.tell(SessionControls.Stop.INSTANCE);
      controls = null;
    }
  }

  private void passivateUnlessRunning(State state) {
    if (shard != null && (!state.started() || state.progress().phase().terminal())) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }

  @Override
  public State emptyState() {
    return State.empty(runId);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(services.settings().snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
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

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Describe.class, (s, c) -> s.started()
            ? Effect().reply(c.replyTo(), StatusReply.success(s.summary()))
            : Effect().none().thenRun(this::passivateUnlessRunning)
                .thenReply(c.replyTo(), x -> StatusReply.error("no run " + runId)))
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(SteerRun.class, this::onSteer)
        .onCommand(ReserveBudget.class, this::onReserve)
        .onCommand(SettleUsage.class, this::onSettle)
        .onCommand(ReportTask.class, this::onReport)
        .onCommand(Redispatch.class, (s, c) -> {
          if (s.currentTask() != null && !s.progress().phase().terminal()) {
            dispatch(s.currentTask());
          }
          return Effect().noReply();
        })
        .onCommand(DispatchAnswered.class, (s, c) -> {
          if (!c.accepted() && s.currentTask() != null
              && s.currentTask().taskId().equals(c.taskId())) {
            timers.startSingleTimer(Redispatch.INSTANCE, services.settings().redeliverAfter());
          }
          return Effect().noReply();
        })
        .build();
  }

  private ReplyEffect<Event, State> onStart(State s, Start c) {
    if (s.started()) {
      return Effect().reply(c.replyTo(), StatusReply.success(s.summary()));
    }
    for (Role role : Role.values()) {
      String model = c.models().get(role.wireName());
      if (model == null) {
        return Effect().reply(c.replyTo(),
            StatusReply.error("no model given for the " + role.wireName()));
      }
      try {
        ModelRef.parse(model);
      } catch (IllegalArgumentException e) {
        return Effect().reply(c.replyTo(), StatusReply.error(e.getMessage()));
      }
    }
    if (c.prompt() == null || c.prompt().isBlank()) {
      return Effect().reply(c.replyTo(), StatusReply.error("a prompt is required"));
    }
    List<Event> events = new ArrayList<>();
    events.add(new RunStarted(c.prompt(), Map.copyOf(c.models()), c.policy(), c.sessionId(),
        System.currentTimeMillis()));
    events.add(new PhaseEntered(Phase.PLANNING, 0, 1, 0));
    State after = applyAll(s, events);
    events.add(new TaskDispatched(RunFlow.taskFor(after, taskId(after))));
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> StatusReply.success(next.summary()));
  }

  private String taskId(State s) {
    return "t" + (s.taskSeq() + 1);
  }

  private ReplyEffect<Event, State> onCancel(State s, Cancel c) {
    if (!s.started()) {
      return Effect().none().thenRun(this::passivateUnlessRunning)
          .thenReply(c.replyTo(), x -> StatusReply.error("no run " + runId));
    }
    if (s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), StatusReply.success(s.summary()));
    }
    String reason = c.reason() == null || c.reason().isBlank() ? "cancelled by a client"
        : c.reason();
    List<Event> events = List.of(new RunEnded(Phase.CANCELLED, reason));
    RoleTask active = s.currentTask();
    return Effect().persist(events)
        .thenRun(next -> {
          control(next, "cancel", c.controlId() != null ? c.controlId() : "cancel-" + runId,
              true, null);
          if (active != null) {
            services.roles().cancel(active.role(), runId, active.taskId());
          }
          afterPersist(s, next, events);
        })
        .thenReply(c.replyTo(), next -> StatusReply.success(next.summary()));
  }

  private ReplyEffect<Event, State> onPause(State s, Pause c) {
    if (!s.started() || s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (s.progress().paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(s.summary()));
    }
    return Effect().persist(new RunPaused())
        .thenRun(next -> control(next, "pause", "pause-" + UUID.randomUUID(), true, null))
        .thenReply(c.replyTo(), next -> StatusReply.success(next.summary()));
  }

  private ReplyEffect<Event, State> onResume(State s, Resume c) {
    if (!s.started() || s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (!s.progress().paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(s.summary()));
    }
    List<Event> events = new ArrayList<>();
    events.add(new RunResumed());
    if (s.currentTask() == null) {
      State after = applyAll(s, events);
      events.add(new TaskDispatched(RunFlow.taskFor(after, taskId(after))));
    }
    return Effect().persist(events)
        .thenRun(next -> {
          control(next, "resume", "resume-" + UUID.randomUUID(), true, null);
          afterPersist(s, next, events);
        })
        .thenReply(c.replyTo(), next -> StatusReply.success(next.summary()));
  }

  private ReplyEffect<Event, State> onSteer(State s, SteerRun c) {
    if (!s.started() || s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), StatusReply.error("run " + runId + " is not running"));
    }
    if (c.text() == null || c.text().isBlank()) {
      return Effect().reply(c.replyTo(), StatusReply.error("a steer message needs text"));
    }
    if (c.controlId() != null && s.steerIds().contains(c.controlId())) {
      return Effect().reply(c.replyTo(), StatusReply.success(s.summary()));
    }
    String id = c.controlId() != null ? c.controlId()
        : "steer-" + UUID.randomUUID();
    return Effect().persist(new SteerReceived(id, c.text()))
        .thenRun(next -> control(next, "steer", id, false, c.text()))
        .thenReply(c.replyTo(), next -> StatusReply.success(next.summary()));
  }

  private ReplyEffect<Event, State> onReserve(State s, ReserveBudget c) {
    if (!s.started()) {
      return Effect().none().thenRun(this::passivateUnlessRunning)
          .thenReply(c.replyTo(), x -> new BudgetDecision(false, "no run " + runId));
    }
    if (s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), new BudgetDecision(false,
          "the run has ended: " + s.progress().phase().name().toLowerCase()));
    }
    String exceeded = exceeded(s);
    if (exceeded != null) {
      List<Event> events = List.of(new RunEnded(Phase.BUDGET_EXHAUSTED, exceeded));
      return Effect().persist(events)
          .thenRun(next -> afterPersist(s, next, events))
          .thenReply(c.replyTo(), next -> new BudgetDecision(false, exceeded));
    }
    return Effect().reply(c.replyTo(), new BudgetDecision(true, null));
  }

  private static String exceeded(State s) {
    RunPolicy.Budget b = s.setup().policy().budget();
    Ledger l = s.ledger();
    long tokens = l.inputTokens() + l.outputTokens();
    if (b.maxTokens() > 0 && tokens >= b.maxTokens()) {
      return "token budget spent: " + tokens + " of " + b.maxTokens();
    }
    if (b.maxUsd() > 0 && l.usd() >= b.maxUsd()) {
      return String.format(Locale.ROOT, "USD budget spent: %.4f of %.2f", l.usd(), b.maxUsd());
    }
    long elapsed = System.currentTimeMillis() - s.setup().startedAtMillis();
    if (b.maxWallClockMillis() > 0 && elapsed >= b.maxWallClockMillis()) {
      return "wall-clock budget spent: " + Duration.ofMillis(elapsed).toSeconds() + "s of "
          + Duration.ofMillis(b.maxWallClockMillis()).toSeconds() + "s";
    }
    return null;
  }

  private ReplyEffect<Event, State> onSettle(State s, SettleUsage c) {
    if (!s.started() || s.ledger().settled().contains(c.callId())) {
      return Effect().reply(c.replyTo(), Ack.INSTANCE);
    }
    double usd = services.pricing().usd(c.model(), c.usage());
    List<Event> events = List.of(new UsageSettled(c.callId(), c.role(), c.model(),
        c.usage().inputTokens(), c.usage().outputTokens(), usd));
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> Ack.INSTANCE);
  }

  private ReplyEffect<Event, State> onReport(State s, ReportTask c) {
    TaskOutcome outcome = c.outcome();
    RoleTask task = s.currentTask();
    if (task == null || !task.taskId().equals(outcome.taskId())
        || s.progress().phase().terminal()) {
      return Effect().reply(c.replyTo(), Ack.INSTANCE);
    }
    List<Event> events = new ArrayList<>();
    if (!outcome.succeeded()) {
      boolean budget = outcome.output() != null && outcome.output().startsWith("budget:");
      events.add(new RunEnded(budget ? Phase.BUDGET_EXHAUSTED : Phase.FAILED,
          "the " + outcome.role().wireName() + " failed " + task.kind().name().toLowerCase()
              + ": " + outcome.output()));
    } else {
      events.addAll(RunFlow.interpret(s, task, outcome.output()));
    }
    State after = applyAll(s, events);
    if (!after.progress().phase().terminal() && !after.progress().paused()) {
      events.add(new TaskDispatched(RunFlow.taskFor(after, taskId(after))));
    }
    return Effect().persist(events)
        .thenRun(next -> afterPersist(s, next, events))
        .thenReply(c.replyTo(), next -> Ack.INSTANCE);
  }

  private State applyAll(State s, List<Event> events) {
    State state = s;
    for (Event e : events) {
      state = events().apply(state, e);
    }
    return state;
  }

  private EventHandler<State, Event> events;

  private EventHandler<State, Event> events() {
    if (events == null) {
      events = eventHandler();
    }
    return events;
  }

  // ---------------------------------------------------------------- side effects

  /** Writes the session events and workspace files of what was just persisted, then dispatches. */
  private void afterPersist(State before, State after, List<Event> events) {
    followSession(after);
    List<CompletionStage<?>> writes = new ArrayList<>();
    State state = before;
    for (Event e : events) {
      state = events().apply(state, e);
      publish(state, e, writes);
      count(e);
    }
    if (after.progress().phase().terminal() && !before.progress().phase().terminal()) {
      writes.add(write("report.md", after.summary().report()));
    }
    if (!events.isEmpty()) {
      writes.add(write("progress.md", progress(after)));
    }
    if (after.progress().phase().terminal() && !before.progress().phase().terminal()) {
      passivateUnlessRunning(after);
    }
    RoleTask dispatched = events.stream().filter(e -> e instanceof TaskDispatched)
        .map(e -> ((TaskDispatched) e).task()).reduce((a, b) -> b).orElse(null);
    if (dispatched != null) {
      CompletableFuture.allOf(writes.stream().map(CompletionStage::toCompletableFuture)
              .toArray(CompletableFuture[]::new))
          .whenComplete((ok, error) -> context.getSelf().tell(Redispatch.INSTANCE));
    }
  }

  /** The operator's view of a persisted event: runs started and ended (logged), spend, tokens. */
  private void count(Event e) {
    TetherMetrics metrics = TetherMetrics.get(context.getSystem());
    if (e instanceof RunStarted started) {
      log.info("Run {} started; models {}", runId, started.models());
      metrics.runStarted();
    } else if (e instanceof RunEnded end) {
      log.info("Run {} ended {}: {}", runId, end.outcome().name().toLowerCase(Locale.ROOT),
          end.reason());
      metrics.runEnded(end.outcome().name().toLowerCase(Locale.ROOT));
    } else if (e instanceof UsageSettled u) {
      metrics.modelCallSettled(u.inputTokens(), u.outputTokens(), u.usd());
    }
  }

  private void dispatch(RoleTask task) {
    CompletionStage<RoleEntity.Accepted> answer;
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

  private void publish(State s, Event e, List<CompletionStage<?>> writes) {
    ObjectNode data = SessionEvents.data();
    String step = "s" + s.progress().sprint() + ".a" + s.progress().attempt();
    if (e instanceof RunStarted started) {
      data.put("prompt", started.prompt());
      data.putPOJO("models", started.models());
      data.put("scripted", s.summary().scripted());
      data.set("policy", SessionEvents.JSON.valueToTree(started.policy()));
      offer(s, "run.start", step, data);
    } else if (e instanceof TaskDispatched d) {
      data.put("phase", s.progress().phase().name().toLowerCase());
      data.put("role", d.task().role().wireName());
      data.put("task", d.task().kind().name().toLowerCase());
      data.put("taskId", d.task().taskId());
      data.put("sprint", d.task().sprint());
      data.put("attempt", d.task().attempt());
      data.put("round", d.task().round());
      offer(s, "run.phase", d.task().step(), data);
    } else if (e instanceof SpecAccepted spec) {
      data.putPOJO("sprints", spec.sprints());
      offer(s, "run.spec", step, data);
      writes.add(write("spec.md", spec.spec()));
    } else if (e instanceof ContractProposed p) {
      data.put("sprint", p.sprint());
      data.put("round", p.round());
      data.put("state", "proposed");
      offer(s, "contract.state", step, data);
      writes.add(write(RunFlow.contractFile(p.sprint()), p.contract()));
    } else if (e instanceof ContractReviewed r) {
      data.put("sprint", r.sprint());
      data.put("round", r.round());
      data.put("state", r.agreed() ? "agreed" : r.forced() ? "forced" : "rejected");
      data.put("comments", r.comments());
      offer(s, "contract.state", step, data);
      writes.add(write(RunFlow.contractFile(r.sprint()), s.artifacts().contract()
          + "\n\n---\nReview (round " + r.round() + "): " + (r.agreed() ? "AGREED" : "NOT AGREED")
          + "\n" + r.comments() + "\n"));
    } else if (e instanceof SprintEvaluated v) {
      data.put("sprint", v.sprint());
      data.put("attempt", v.attempt());
      data.putPOJO("scores", v.scores());
      data.put("weighted", v.weighted());
      data.put("passed", v.passed());
      data.putPOJO("misses", v.misses());
      data.put("feedback", v.feedback());
      offer(s, "evaluation.scores", step, data);
      writes.add(write(RunFlow.evaluationFile(v.sprint(), v.attempt()),
          "# Sprint " + v.sprint() + ", attempt " + v.attempt() + ": "
              + (v.passed() ? "PASSED" : "FAILED") + "\n\nScores: " + v.scores()
              + "\nMisses: " + v.misses() + "\n\n" + v.feedback() + "\n"));
    } else if (e instanceof UsageSettled u) {
      data.put("callId", u.callId());
      data.put("role", u.role().wireName());
      data.put("model", u.model());
      data.put("inputTokens", s.ledger().inputTokens());
      data.put("outputTokens", s.ledger().outputTokens());
      data.put("usd", s.ledger().usd());
      RunPolicy.Budget b = s.setup().policy().budget();
      data.put("maxTokens", b.maxTokens());
      data.put("maxUsd", b.maxUsd());
      offer(s, "budget.used", step, data);
    } else if (e instanceof RunEnded end) {
      // The session's vocabulary (DESIGN.md section 3); the harness's own outcome goes alongside.
      data.put("status", end.outcome() == Phase.COMPLETED ? "complete"
          : end.outcome() == Phase.CANCELLED ? "cancelled" : "error");
      data.put("outcome", end.outcome().name().toLowerCase());
      data.put("reason", end.reason());
      data.put("report", s.summary().report());
      offer(s, "run.end", step, data);
    }
  }

  private void control(State s, String kind, String controlId, boolean consumed, String text) {
    ObjectNode data = SessionEvents.data();
    data.put("kind", kind);
    data.put("control", controlId);
    data.put("consumed", consumed);
    if (text != null) {
      data.put("text", text);
    }
    offer(s, "control.ack", "control", data);
  }

  private CompletionStage<?> write(String path, String content) {
    return services.workspace().write(runId, path, content, "run")
        .exceptionally(error -> {
          log.warn("run {}: workspace file {} not written: {}", runId, path,
              error.toString());
          return null;
        });
  }

  private static String progress(State s) {
    StringBuilder p = new StringBuilder("# Progress\n\nPhase: ")
        .append(s.progress().phase().name().toLowerCase()).append(", sprint ")
        .append(s.progress().sprint()).append(" of ").append(s.artifacts().sprints().size())
        .append(", attempt ").append(s.progress().attempt()).append("\n\n");
    for (SprintResult r : s.results()) {
      p.append("- sprint ").append(r.sprint()).append(" attempt ").append(r.attempt())
          .append(": ").append(r.passed() ? "passed" : "failed").append(" ").append(r.scores())
          .append("\n");
    }
    return p.toString();
  }

  private void offer(State s, String type, String step, ObjectNode data) {
    if (stream == null) {
      stream = new ProducerStream(services.sessions(), s.setup().sessionId(), "run");
    }
    stream.offer(SessionEvents.event(type, runId, step, "run", data));
  }

  // ---------------------------------------------------------------- event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(RunStarted.class, (s, e) -> new State(s.runId(), new Setup(e.prompt(),
            e.sessionId(), e.models(), e.policy(), e.startedAtMillis()), s.progress(),
            s.artifacts(), null, s.taskSeq(), s.pendingSteers(), s.results(), s.ledger(), null,
            s.steerIds()))
        .onEvent(TaskDispatched.class, (s, e) -> new State(s.runId(), s.setup(), s.progress(),
            s.artifacts(), e.task(), s.taskSeq() + 1, List.of(), s.results(), s.ledger(),
            s.outcome(), s.steerIds()))
        .onEvent(SpecAccepted.class, (s, e) -> s.finishedTask().withArtifacts(
            new Artifacts(e.spec(), e.sprints(), null, null, null, null)))
        .onEvent(ContractProposed.class, (s, e) -> {
          Artifacts a = s.artifacts();
          return s.finishedTask().withArtifacts(new Artifacts(a.spec(), a.sprints(),
              e.contract(), a.contractComments(), a.feedback(), a.buildSummary()));
        })
        .onEvent(ContractReviewed.class, (s, e) -> {
          Artifacts a = s.artifacts();
          return s.finishedTask().withArtifacts(new Artifacts(a.spec(), a.sprints(),
              a.contract(), e.comments(), a.feedback(), a.buildSummary()));
        })
        .onEvent(BuildReported.class, (s, e) -> {
          Artifacts a = s.artifacts();
          return s.finishedTask().withArtifacts(new Artifacts(a.spec(), a.sprints(),
              a.contract(), a.contractComments(), a.feedback(), e.summary()));
        })
        .onEvent(SprintEvaluated.class, (s, e) -> {
          Artifacts a = s.artifacts();
          List<SprintResult> results = new ArrayList<>(s.results());
          results.add(new SprintResult(e.sprint(), e.attempt(), e.scores(), e.weighted(),
              e.passed()));
          State next = new State(s.runId(), s.setup(), s.progress(), new Artifacts(a.spec(),
              a.sprints(), a.contract(), a.contractComments(),
              e.passed() ? null : e.feedback() + (e.misses().isEmpty() ? ""
                  : "\nBelow threshold: " + String.join(", ", e.misses())),
              a.buildSummary()), null, s.taskSeq(), s.pendingSteers(), List.copyOf(results),
              s.ledger(), s.outcome(), s.steerIds());
          return next;
        })
        .onEvent(PhaseEntered.class, (s, e) -> {
          State next = s.withProgress(new Progress(e.phase(), e.sprint(), e.attempt(), e.round(),
              s.progress().paused()));
          if (e.phase() == Phase.CONTRACT_PROPOSAL && e.round() == 1) {
            Artifacts a = next.artifacts();
            next = next.withArtifacts(new Artifacts(a.spec(), a.sprints(), null, null, null,
                null));
          }
          return next;
        })
        .onEvent(RunPaused.class, (s, e) -> s.withProgress(new Progress(s.progress().phase(),
            s.progress().sprint(), s.progress().attempt(), s.progress().round(), true)))
        .onEvent(RunResumed.class, (s, e) -> s.withProgress(new Progress(s.progress().phase(),
            s.progress().sprint(), s.progress().attempt(), s.progress().round(), false)))
        .onEvent(SteerReceived.class, (s, e) -> {
          List<Steer> steers = new ArrayList<>(s.pendingSteers());
          steers.add(new Steer(e.controlId(), e.text()));
          List<String> ids = new ArrayList<>(s.steerIds());
          ids.add(e.controlId());
          return new State(s.runId(), s.setup(), s.progress(), s.artifacts(), s.currentTask(),
              s.taskSeq(), List.copyOf(steers), s.results(), s.ledger(), s.outcome(),
              List.copyOf(ids.subList(Math.max(0, ids.size() - State.MAX_STEER_IDS),
                  ids.size())));
        })
        .onEvent(UsageSettled.class, (s, e) -> new State(s.runId(), s.setup(), s.progress(),
            s.artifacts(), s.currentTask(), s.taskSeq(), s.pendingSteers(), s.results(),
            s.ledger().plus(e), s.outcome(), s.steerIds()))
        .onEvent(RunEnded.class, (s, e) -> new State(s.runId(), s.setup(),
            new Progress(e.outcome(), s.progress().sprint(), s.progress().attempt(),
                s.progress().round(), s.progress().paused()), s.artifacts(), null, s.taskSeq(),
            s.pendingSteers(), s.results(), s.ledger(), e.reason(), s.steerIds()))
        .build();
  }
}
