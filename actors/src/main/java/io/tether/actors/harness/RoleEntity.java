package io.tether.actors.harness;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.ModelProvider;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ModelRequest;
import io.tether.actors.harness.model.ModelResponse;
import io.tether.actors.harness.model.ModelStreamListener;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.session.ProducerStream;
import io.tether.actors.harness.session.SessionEvents;
import io.tether.actors.logging.EntityMdc;
import io.tether.persistence.TetherSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
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
 * loop of model calls and tool calls.
 *
 * <p>Write-ahead: a model call is persisted as {@link ModelCallRequested} before it starts and
 * {@link ModelCallCompleted} after; a tool call as {@link ToolCallRequested} and {@link
 * ToolCallCompleted}. On recovery a completed call is never repeated (its result is in the
 * conversation); a model call that was in flight is re-issued and recorded as {@link
 * ModelCallRetried}; a tool call that was in flight is recorded as {@link ToolCallInDoubt} and the
 * model is told so in the tool's result, since the tool may or may not have taken effect.
 * Before each model call the Run is asked for budget; after it the usage is settled with the
 * Run. Model streams and tools run in futures piped back to the entity; nothing blocks it. The
 * role writes its own output (deltas, tool calls and results) into the run's session; a
 * cancelled task's stream is fenced at once.
 */
public final class RoleEntity
    extends EventSourcedBehaviorWithEnforcedReplies<RoleEntity.Command, RoleEntity.Event,
        RoleEntity.State> {

  /** Messages a role accepts. */
  public sealed interface Command extends TetherSerializable
      permits Perform, CancelTask, GetState, Continue, Recovered, BudgetAnswered,
          ModelCallFinished, ToolCallFinished, ReportAnswered {}

  /** Performs a task (idempotent per task id); replies once the task is durably accepted. */
  public record Perform(RoleTask task, ActorRef<StatusReply<Accepted>> replyTo)
      implements Command {}

  /** Cancels the task if it is still running; replies once the cancel is durable. */
  public record CancelTask(String taskId, ActorRef<StatusReply<Accepted>> replyTo)
      implements Command {}

  /** Asks for the role's state. */
  public record GetState(ActorRef<State> replyTo) implements Command {}

  /** The reply to {@link Perform} and {@link CancelTask}. */
  public record Accepted(String taskId) implements TetherSerializable {}

  /** Drives the task one step (internal). */
  enum Continue implements Command { INSTANCE }

  /** Recovery has finished (internal). */
  enum Recovered implements Command { INSTANCE }

  /** The Run's budget answer (internal). */
  record BudgetAnswered(String callId, boolean granted, String reason) implements Command {}

  /** A model call ended (internal); error is null on success. */
  record ModelCallFinished(String callId, int attempt, ModelResponse response, String error)
      implements Command {}

  /** A tool call ended (internal). */
  record ToolCallFinished(String toolCallId, String output, boolean error) implements Command {}

  /** The Run answered a report (internal). */
  record ReportAnswered(String taskId, boolean acknowledged) implements Command {}

  /** What happened to a role. */
  public sealed interface Event extends TetherSerializable
      permits TaskStarted, ModelCallRequested, ModelCallRetried, ModelCallCompleted,
          ToolCallRequested, ToolCallCompleted, ToolCallInDoubt, TaskCompleted, TaskFailed,
          TaskCancelled, TaskReported {}

  /** A task was accepted and its prompt added to the conversation. */
  public record TaskStarted(RoleTask task) implements Event {}

  /** A model call is about to start (written ahead). */
  public record ModelCallRequested(String callId, long callIndex, int attempt, String model)
      implements Event {}

  /** A model call is being re-issued, after a failure or after recovery. */
  public record ModelCallRetried(String callId, int attempt, String reason) implements Event {}

  /** A model call completed with this answer. */
  public record ModelCallCompleted(String callId, ChatTurn answer, TokenUsage usage)
      implements Event {}

  /** A tool call is about to run (written ahead). */
  public record ToolCallRequested(ToolCall call) implements Event {}

  /** A tool call completed with this output. */
  public record ToolCallCompleted(String toolCallId, String output, boolean error)
      implements Event {}

  /** A tool call was interrupted by a crash: it may or may not have taken effect. */
  public record ToolCallInDoubt(String toolCallId) implements Event {}

  /** The task produced its result. */
  public record TaskCompleted(String taskId, String output) implements Event {}

  /** The task failed. */
  public record TaskFailed(String taskId, String reason) implements Event {}

  /** The task was cancelled. */
  public record TaskCancelled(String taskId, String reason) implements Event {}

  /** The Run acknowledged the task's result. */
  public record TaskReported(String taskId) implements Event {}

  /** Where a task is. */
  public enum Status { IDLE, ACTIVE, COMPLETED, FAILED, CANCELLED }

  /** A model call written ahead and not yet completed. */
  public record PendingCall(String callId, long callIndex, int attempt, String model)
      implements TetherSerializable {}

  /**
   * The role's state: its conversation and the task in progress (or the last one).
   *
   * @param task the current or last task
   * @param status where the task is
   * @param output the task's result, or why it failed
   * @param reported whether the Run has acknowledged the result
   * @param messages the conversation
   * @param callCount model calls requested by this role in this run (first attempts)
   * @param callsInTask model calls requested for the current task
   * @param pendingCall the model call in flight, if any
   * @param pendingTools tool calls of the latest answer not yet completed, in order
   * @param requestedToolId the tool call written ahead and not completed, if any
   * @param toolCallsCompleted tool calls completed by this role in this run
   * @param finishedTaskIds tasks that ended, so a re-sent task is not performed twice
   */
  public record State(
      RoleTask task,
      Status status,
      String output,
      boolean reported,
      List<ChatTurn> messages,
      long callCount,
      int callsInTask,
      PendingCall pendingCall,
      List<ToolCall> pendingTools,
      String requestedToolId,
      long toolCallsCompleted,
      List<String> finishedTaskIds) implements TetherSerializable {

    static State empty() {
      return new State(null, Status.IDLE, null, true, List.of(), 0, 0, null, List.of(), null, 0,
          List.of());
    }

    boolean active() {
      return status == Status.ACTIVE;
    }

    State started(RoleTask t) {
      List<ChatTurn> conversation = t.resetContext() ? new ArrayList<>() : new ArrayList<>(messages);
      conversation.add(ChatTurn.user(t.prompt()));
      return new State(t, Status.ACTIVE, null, false, List.copyOf(conversation), callCount, 0,
          null, List.of(), null, toolCallsCompleted, finishedTaskIds);
    }

    State requested(ModelCallRequested e) {
      return new State(task, status, output, reported, messages, callCount + 1, callsInTask + 1,
          new PendingCall(e.callId(), e.callIndex(), e.attempt(), e.model()), pendingTools,
          requestedToolId, toolCallsCompleted, finishedTaskIds);
    }

    State retried(ModelCallRetried e) {
      PendingCall p = pendingCall;
      return new State(task, status, output, reported, messages, callCount, callsInTask,
          new PendingCall(p.callId(), p.callIndex(), e.attempt(), p.model()), pendingTools,
          requestedToolId, toolCallsCompleted, finishedTaskIds);
    }

    State answered(ModelCallCompleted e) {
      return new State(task, status, output, reported, append(messages, e.answer()), callCount,
          callsInTask, null, e.answer().toolCalls(), null, toolCallsCompleted, finishedTaskIds);
    }

    State toolRequested(ToolCallRequested e) {
      return new State(task, status, output, reported, messages, callCount, callsInTask,
          pendingCall, pendingTools, e.call().id(), toolCallsCompleted, finishedTaskIds);
    }

    State toolDone(String toolCallId, String result, boolean countsAsCompleted) {
      ToolCall call = pendingTools.stream().filter(c -> c.id().equals(toolCallId)).findFirst()
          .orElse(new ToolCall(toolCallId, "unknown", "{}"));
      List<ToolCall> rest = pendingTools.stream().filter(c -> !c.id().equals(toolCallId))
          .toList();
      return new State(task, status, output, reported,
          append(messages, ChatTurn.toolResult(call, result)), callCount, callsInTask,
          pendingCall, rest, null, toolCallsCompleted + (countsAsCompleted ? 1 : 0),
          finishedTaskIds);
    }

    State ended(Status s, String out, boolean isReported) {
      List<String> finished = new ArrayList<>(finishedTaskIds);
      finished.add(task.taskId());
      return new State(task, s, out, isReported, messages, callCount, callsInTask, null,
          List.of(), null, toolCallsCompleted,
          List.copyOf(finished.subList(Math.max(0, finished.size() - 200), finished.size())));
    }

    State withReported() {
      return new State(task, status, output, true, messages, callCount, callsInTask, pendingCall,
          pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
    }

    /** The requested tool call, if one is written ahead. */
    ToolCall requestedTool() {
      return pendingTools.stream().filter(c -> c.id().equals(requestedToolId)).findFirst()
          .orElse(null);
    }

    private static List<ChatTurn> append(List<ChatTurn> list, ChatTurn turn) {
      List<ChatTurn> next = new ArrayList<>(list);
      next.add(turn);
      return List.copyOf(next);
    }
  }

  static final String IN_DOUBT_RESULT = "IN DOUBT: this tool call was interrupted by a crash"
      + " before its result was recorded; it may or may not have taken effect. Check the"
      + " workspace before repeating it.";

  private final RoleProfile profile;
  private final String runId;
  private final RoleServices services;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;

  private final org.slf4j.Logger log;
  private boolean awaitingBudget;
  private boolean modelInFlight;
  private boolean toolInFlight;
  private boolean reporting;
  private AtomicBoolean fence = new AtomicBoolean(false);
  private ProducerStream stream;

  private RoleEntity(PersistenceId id, RoleProfile profile, String runId, RoleServices services,
      ActorContext<Command> context, TimerScheduler<Command> timers) {
    super(id);
    this.profile = profile;
    this.runId = runId;
    this.services = services;
    this.context = context;
    this.timers = timers;
    this.log = context.getLog();
  }

  /** The behavior of {@code profile}'s role for run {@code runId}; its logs carry {@code runId}. */
  public static Behavior<Command> create(EntityTypeKey<Command> key, RoleProfile profile,
      String runId, RoleServices services) {
    return EntityMdc.withMdc(Map.of("runId", runId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RoleEntity(
            PersistenceId.of(key.name(), runId), profile, runId, services, ctx, timers))));
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(services.settings().snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> context.getSelf().tell(Recovered.INSTANCE))
        // Stopped here (passivated, handed to another node, or the node shutting down): the
        // processes its tasks started on this node go too.
        .onSignal(PostStop.instance(), state -> releaseProcesses())
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Perform.class, this::onPerform)
        .onCommand(CancelTask.class, this::onCancel)
        .onCommand(GetState.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .onCommand(Continue.class, (state, cmd) -> step(state))
        .onCommand(Recovered.class, (state, cmd) -> onRecovered(state))
        .onCommand(BudgetAnswered.class, this::onBudget)
        .onCommand(ModelCallFinished.class, this::onModelCallFinished)
        .onCommand(ToolCallFinished.class, this::onToolCallFinished)
        .onCommand(ReportAnswered.class, this::onReportAnswered)
        .build();
  }

  private ReplyEffect<Event, State> onPerform(State state, Perform cmd) {
    RoleTask task = cmd.task();
    StatusReply<Accepted> ok = StatusReply.success(new Accepted(task.taskId()));
    if (task.role() != profile.role() || !task.runId().equals(runId)) {
      return Effect().reply(cmd.replyTo(),
          StatusReply.error("task " + task.taskId() + " is not for " + profile.role() + "/" + runId));
    }
    boolean known = state.task() != null && state.task().taskId().equals(task.taskId());
    if (known || state.finishedTaskIds().contains(task.taskId())) {
      context.getSelf().tell(Continue.INSTANCE);
      return Effect().reply(cmd.replyTo(), ok);
    }
    List<Event> events = new ArrayList<>();
    if (state.active()) {
      events.add(new TaskCancelled(state.task().taskId(), "superseded by " + task.taskId()));
    }
    events.add(new TaskStarted(task));
    return Effect().persist(events)
        .thenRun(s -> {
          fence.set(true);
          forgetInFlight();
          releaseProcesses();
          for (int i = 0; i < task.steers().size(); i++) {
            ObjectNode data = SessionEvents.data();
            data.put("kind", "steer");
            data.put("control", i < task.steerIds().size() ? task.steerIds().get(i) : null);
            data.put("consumed", true);
            data.put("taskId", task.taskId());
            data.put("text", task.steers().get(i));
            offer("control.ack", task, data);
          }
          context.getSelf().tell(Continue.INSTANCE);
        })
        .thenReply(cmd.replyTo(), s -> ok);
  }

  private ReplyEffect<Event, State> onCancel(State state, CancelTask cmd) {
    StatusReply<Accepted> ok = StatusReply.success(new Accepted(cmd.taskId()));
    if (!state.active() || !state.task().taskId().equals(cmd.taskId())) {
      return Effect().reply(cmd.replyTo(), ok);
    }
    return Effect().persist(new TaskCancelled(cmd.taskId(), "cancelled by the run"))
        .thenRun(s -> {
          fence.set(true);
          releaseProcesses();
          if (modelInFlight && state.pendingCall() != null) {
            ObjectNode data = SessionEvents.data();
            data.put("id", messageId(state.pendingCall()));
            data.put("callId", state.pendingCall().callId());
            data.put("status", "cancelled");
            offer("message.end", s.task(), data);
          }
          forgetInFlight();
        })
        .thenReply(cmd.replyTo(), s -> ok);
  }

  /** Results of calls made for an ended task are ignored when they arrive (their ids are stale). */
  private void forgetInFlight() {
    awaitingBudget = false;
    modelInFlight = false;
    toolInFlight = false;
  }

  /** Decides and starts the next step of the current task. */
  private ReplyEffect<Event, State> step(State state) {
    if (!state.active()) {
      if (state.status() != Status.IDLE && state.status() != Status.CANCELLED && !state.reported()
          && !reporting) {
        report(state);
      }
      return Effect().noReply();
    }
    if (state.pendingCall() != null || awaitingBudget || modelInFlight || toolInFlight) {
      return Effect().noReply();
    }
    if (state.requestedToolId() != null) {
      return Effect().noReply();
    }
    if (!state.pendingTools().isEmpty()) {
      ToolCall call = state.pendingTools().get(0);
      if (!profile.allows(call.name())) {
        String refusal = "the " + profile.role().wireName() + " may not use the tool "
            + call.name();
        return Effect().persist(List.of(new ToolCallRequested(call),
                new ToolCallCompleted(call.id(), refusal, true)))
            .thenRun(s -> {
              offer("tool.call", s.task(), toolCallData(call));
              offer("tool.result", s.task(), toolResultData(call.id(), "error", refusal));
              context.getSelf().tell(Continue.INSTANCE);
            })
            .thenNoReply();
      }
      return Effect().persist(new ToolCallRequested(call))
          .thenRun(s -> runTool(s, call))
          .thenNoReply();
    }
    ChatTurn last = state.messages().isEmpty() ? null
        : state.messages().get(state.messages().size() - 1);
    if (last != null && last.kind() == ChatTurn.Kind.ASSISTANT && last.toolCalls().isEmpty()) {
      return Effect().persist(new TaskCompleted(state.task().taskId(), last.text()))
          .thenRun(this::report)
          .thenNoReply();
    }
    if (state.callsInTask() >= services.settings().maxCallsPerTask()) {
      return Effect().persist(new TaskFailed(state.task().taskId(),
              "the task made " + state.callsInTask() + " model calls without finishing"))
          .thenRun(this::report)
          .thenNoReply();
    }
    String callId = callId(state.callCount());
    awaitingBudget = true;
    CompletionStage<Run.BudgetDecision> decision;
    try {
      decision = services.run().reserve(runId, callId, profile.role(), state.task().model());
    } catch (RuntimeException e) {
      decision = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(decision, (d, error) -> error != null
        ? new BudgetAnswered(callId, false, "unreachable run: " + error.getMessage())
        : new BudgetAnswered(callId, d.granted(), d.reason()));
    return Effect().noReply();
  }

  private String callId(long callIndex) {
    return profile.role().wireName() + "-" + callIndex;
  }

  private ReplyEffect<Event, State> onBudget(State state, BudgetAnswered msg) {
    awaitingBudget = false;
    if (!state.active() || state.pendingCall() != null
        || !msg.callId().equals(callId(state.callCount()))) {
      return Effect().noReply();
    }
    if (!msg.granted()) {
      if (msg.reason() != null && msg.reason().startsWith("unreachable run")) {
        timers.startSingleTimer(Continue.INSTANCE, services.settings().redeliverAfter());
        return Effect().noReply();
      }
      return Effect().persist(new TaskFailed(state.task().taskId(), "budget: " + msg.reason()))
          .thenRun(this::report)
          .thenNoReply();
    }
    return Effect().persist(new ModelCallRequested(msg.callId(), state.callCount(), 1,
            state.task().model()))
        .thenRun(this::issueModelCall)
        .thenNoReply();
  }

  private void issueModelCall(State state) {
    PendingCall call = state.pendingCall();
    RoleTask task = state.task();
    AtomicBoolean callFence = new AtomicBoolean(false);
    fence = callFence;
    modelInFlight = true;
    CompletionStage<ModelResponse> response;
    boolean scripted = false;
    String providerName = "unknown";
    try {
      ModelRef ref = ModelRef.parse(call.model());
      ModelProvider provider = services.providers().provider(ref);
      scripted = provider.scripted();
      providerName = provider.name();
      ModelRequest request = new ModelRequest(ref.model(), profile.role().wireName(),
          call.callIndex(), profile.systemPrompt(), state.messages(), profile.tools(),
          services.settings().maxOutputTokens());
      ObjectNode start = SessionEvents.data();
      start.put("id", messageId(call));
      start.put("callId", call.callId());
      start.put("attempt", call.attempt());
      start.put("role", profile.role().wireName());
      start.put("model", call.model());
      start.put("provider", providerName);
      start.put("scripted", scripted);
      if (scripted) {
        start.put("label", "SCRIPTED OUTPUT (replayed from a recorded script, not a model)");
      }
      start.put("retry", call.attempt() > 1);
      offer("message.start", task, start);
      final boolean isScripted = scripted;
      response = provider.stream(request, new ModelStreamListener() {
        @Override
        public void onTextDelta(String text) {
          if (!callFence.get()) {
            ObjectNode delta = SessionEvents.data();
            delta.put("id", messageId(call));
            delta.put("callId", call.callId());
            delta.put("role", profile.role().wireName());
            delta.put("text", text);
            if (isScripted) {
              delta.put("scripted", true);
            }
            offer("message.delta", task, delta);
          }
        }

        @Override
        public boolean cancelled() {
          return callFence.get();
        }
      });
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(response, (r, error) -> error == null
        ? new ModelCallFinished(call.callId(), call.attempt(), r, null)
        : new ModelCallFinished(call.callId(), call.attempt(), null, describe(error)));
  }

  private static String describe(Throwable e) {
    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  private ReplyEffect<Event, State> onModelCallFinished(State state, ModelCallFinished msg) {
    PendingCall pending = state.pendingCall();
    if (pending == null || !pending.callId().equals(msg.callId())
        || pending.attempt() != msg.attempt()) {
      return Effect().noReply();
    }
    modelInFlight = false;
    if (!state.active()) {
      return Effect().noReply();
    }
    if (msg.error() == null) {
      ModelResponse r = msg.response();
      ChatTurn answer = ChatTurn.assistant(r.text(), r.toolCalls());
      return Effect().persist(new ModelCallCompleted(msg.callId(), answer, r.usage()))
          .thenRun(s -> {
            ObjectNode end = SessionEvents.data();
            end.put("id", messageId(pending));
            end.put("callId", msg.callId());
            end.put("status", "complete");
            end.put("finishReason", r.finishReason());
            end.put("inputTokens", r.usage().inputTokens());
            end.put("outputTokens", r.usage().outputTokens());
            offer("message.end", s.task(), end);
            services.run().settle(runId, msg.callId(), profile.role(), pending.model(), r.usage())
                .whenComplete((ack, error) -> {
                  if (error != null) {
                    log.warn("usage of {} not settled with run {}: {}",
                        msg.callId(), runId, error.toString());
                  }
                });
            context.getSelf().tell(Continue.INSTANCE);
          })
          .thenNoReply();
    }
    log.warn("Run {}: model call {} of the {} failed (attempt {}): {}", runId, msg.callId(),
        profile.role().wireName(), msg.attempt(), msg.error());
    ObjectNode end = SessionEvents.data();
    end.put("id", messageId(pending));
    end.put("callId", msg.callId());
    end.put("status", "error");
    end.put("error", msg.error());
    offer("message.end", state.task(), end);
    if (msg.attempt() <= services.settings().modelCallRetries()) {
      return Effect().persist(new ModelCallRetried(msg.callId(), msg.attempt() + 1, msg.error()))
          .thenRun(this::issueModelCall)
          .thenNoReply();
    }
    return Effect().persist(new TaskFailed(state.task().taskId(),
            "model call " + msg.callId() + " failed " + msg.attempt() + " times: " + msg.error()))
        .thenRun(this::report)
        .thenNoReply();
  }

  private void runTool(State state, ToolCall call) {
    offer("tool.call", state.task(), toolCallData(call));
    toolInFlight = true;
    context.pipeToSelf(services.tools().execute(runId, profile.role().wireName(), call),
        (outcome, error) -> error == null
            ? new ToolCallFinished(call.id(), outcome.output(), outcome.error())
            : new ToolCallFinished(call.id(), "tool failed: " + describe(error), true));
  }

  private ReplyEffect<Event, State> onToolCallFinished(State state, ToolCallFinished msg) {
    if (!msg.toolCallId().equals(state.requestedToolId())) {
      return Effect().noReply();
    }
    toolInFlight = false;
    if (!state.active()) {
      return Effect().noReply();
    }
    return Effect().persist(new ToolCallCompleted(msg.toolCallId(), msg.output(), msg.error()))
        .thenRun(s -> {
          offer("tool.result", s.task(),
              toolResultData(msg.toolCallId(), msg.error() ? "error" : "ok", msg.output()));
          context.getSelf().tell(Continue.INSTANCE);
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> onRecovered(State state) {
    if (!state.active()) {
      context.getSelf().tell(Continue.INSTANCE);
      return Effect().noReply();
    }
    List<Event> events = new ArrayList<>();
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
          ObjectNode data = SessionEvents.data();
          data.put("role", profile.role().wireName());
          if (interruptedCall != null) {
            data.put("callId", interruptedCall.callId());
            data.put("modelCall", "re-issued");
          }
          if (interruptedTool != null) {
            data.put("toolCallId", interruptedTool.id());
            data.put("tool", interruptedTool.name());
            data.put("toolCall", "in_doubt");
          }
          offer("run.interrupted", s.task(), data);
          if (interruptedTool != null) {
            offer("tool.result", s.task(),
                toolResultData(interruptedTool.id(), "in_doubt", IN_DOUBT_RESULT));
          }
          if (s.pendingCall() != null) {
            issueModelCall(s);
          } else {
            context.getSelf().tell(Continue.INSTANCE);
          }
        })
        .thenNoReply();
  }

  /** Stops the processes this role started with start_process: its task has ended. */
  private void releaseProcesses() {
    services.tools().releaseProcesses(runId, profile.role().wireName());
  }

  private void report(State state) {
    if (state.task() == null) {
      return;
    }
    releaseProcesses();
    reporting = true;
    Run.TaskOutcome outcome = new Run.TaskOutcome(state.task().taskId(), profile.role(),
        state.status() == Status.COMPLETED, state.output());
    CompletionStage<Run.Ack> answer;
    try {
      answer = services.run().report(runId, outcome);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    String taskId = state.task().taskId();
    context.pipeToSelf(answer, (ack, error) -> new ReportAnswered(taskId, error == null));
  }

  private ReplyEffect<Event, State> onReportAnswered(State state, ReportAnswered msg) {
    reporting = false;
    if (state.task() == null || !state.task().taskId().equals(msg.taskId()) || state.reported()) {
      return Effect().noReply();
    }
    if (!msg.acknowledged()) {
      timers.startSingleTimer(Continue.INSTANCE, services.settings().redeliverAfter());
      return Effect().noReply();
    }
    return Effect().persist(new TaskReported(msg.taskId())).thenNoReply();
  }

  /** One message per attempt of a call: a retried call streams a new message. */
  private String messageId(PendingCall call) {
    return runId + "/" + call.callId() + "/" + call.attempt();
  }

  private ObjectNode toolCallData(ToolCall call) {
    ObjectNode data = SessionEvents.data();
    data.put("toolCallId", call.id());
    data.put("role", profile.role().wireName());
    data.put("name", call.name());
    data.put("arguments", call.argumentsJson());
    return data;
  }

  private ObjectNode toolResultData(String toolCallId, String status, String output) {
    ObjectNode data = SessionEvents.data();
    data.put("toolCallId", toolCallId);
    data.put("role", profile.role().wireName());
    data.put("status", status);
    data.put("output", output.length() > 4000 ? output.substring(0, 4000) + "..." : output);
    return data;
  }

  private void offer(String type, RoleTask task, ObjectNode data) {
    if (task == null) {
      return;
    }
    if (stream == null) {
      stream = new ProducerStream(services.sessions(), task.sessionId(),
          profile.role().wireName());
    }
    stream.offer(SessionEvents.event(type, runId, task.step(), profile.role().wireName(), data));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(TaskStarted.class, (s, e) -> s.started(e.task()))
        .onEvent(ModelCallRequested.class, State::requested)
        .onEvent(ModelCallRetried.class, State::retried)
        .onEvent(ModelCallCompleted.class, State::answered)
        .onEvent(ToolCallRequested.class, State::toolRequested)
        .onEvent(ToolCallCompleted.class, (s, e) -> s.toolDone(e.toolCallId(),
            e.error() ? "ERROR: " + e.output() : e.output(), true))
        .onEvent(ToolCallInDoubt.class, (s, e) -> s.toolDone(e.toolCallId(), IN_DOUBT_RESULT,
            false))
        .onEvent(TaskCompleted.class, (s, e) -> s.ended(Status.COMPLETED, e.output(), false))
        .onEvent(TaskFailed.class, (s, e) -> s.ended(Status.FAILED, e.reason(), false))
        .onEvent(TaskCancelled.class, (s, e) -> s.ended(Status.CANCELLED, e.reason(), true))
        .onEvent(TaskReported.class, (s, e) -> s.withReported())
        .build();
  }
}
