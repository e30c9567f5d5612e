package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.ModelProvider;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ModelRequest;
import io.tether.actors.harness.model.ModelResponse;
import io.tether.actors.harness.model.ModelStreamListener;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.workspace.WorkspaceTools;
import io.tether.actors.harness.role.RoleEvent.ModelCallCompleted;
import io.tether.actors.harness.role.RoleEvent.ModelCallRequested;
import io.tether.actors.harness.role.RoleEvent.ModelCallRetried;
import io.tether.actors.harness.role.RoleEvent.TaskCompleted;
import io.tether.actors.harness.role.RoleEvent.TaskFailed;
import io.tether.actors.harness.role.RoleEvent.TaskReported;
import io.tether.actors.harness.role.RoleEvent.ToolCallCompleted;
import io.tether.actors.harness.role.RoleEvent.ToolCallRequested;
import io.tether.actors.harness.role.RoleState.PendingCall;
import io.tether.actors.harness.role.RoleState.Status;
import io.tether.actors.harness.task.Ack;
import io.tether.actors.harness.task.BudgetDecision;
import io.tether.actors.harness.task.RoleTask;
import io.tether.actors.harness.task.TaskOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;

/**
 * The loop of one task of a {@link RoleEntity}: ask the Run for budget, call the model (write
 * ahead, stream, write after), run the tools its answer asks for (write ahead, run, write after),
 * and again, until the model answers without tool calls (the task's result) or the task fails;
 * then report the end to the Run until it acknowledges. Each step is one command; the model
 * stream and the tools run in futures piped back as commands, so nothing blocks the entity.
 *
 * <p>It keeps what is in flight in memory only (a budget question, a model call, a tool call, a
 * report): after a restart {@link RoleEntity} recovers the journaled calls and the loop starts
 * afresh from {@link Continue}.
 */
final class ToolLoop {

  /** Drives the task one step. */
  enum Continue implements RoleCommand { INSTANCE }

  /** The Run's budget answer (piped). */
  record BudgetAnswered(String callId, boolean granted, String reason) implements RoleCommand {}

  /** A model call ended (piped): the response, or the error. */
  record ModelCallFinished(String callId, int attempt, ModelResponse response, String error)
      implements RoleCommand {

    static ModelCallFinished succeeded(String callId, int attempt, ModelResponse response) {
      return new ModelCallFinished(callId, attempt, response, null);
    }

    static ModelCallFinished failed(String callId, int attempt, String error) {
      return new ModelCallFinished(callId, attempt, null, error);
    }
  }

  /** A tool call ended (piped), with the screenshots it saved in the workspace. */
  record ToolCallFinished(String toolCallId, String output, boolean error,
      List<String> screenshots) implements RoleCommand {

    ToolCallFinished(String toolCallId, String output, boolean error) {
      this(toolCallId, output, error, List.of());
    }
  }

  /** The Run answered a report (piped). */
  record ReportAnswered(String taskId, boolean acknowledged) implements RoleCommand {}

  private final RoleProfile profile;
  private final String runId;
  private final RoleServices services;
  private final RoleOutput output;
  private final ActorContext<RoleCommand> context;
  private final TimerScheduler<RoleCommand> timers;
  private final EffectFactories<RoleEvent, RoleState> effect;
  private final Logger log;

  private boolean awaitingBudget;
  private boolean modelInFlight;
  private boolean toolInFlight;
  private boolean reporting;
  private AtomicBoolean fence = new AtomicBoolean(false);
  private AtomicBoolean streamed = new AtomicBoolean(false);

  ToolLoop(RoleProfile profile, String runId, RoleServices services, RoleOutput output,
      ActorContext<RoleCommand> context, TimerScheduler<RoleCommand> timers,
      EffectFactories<RoleEvent, RoleState> effect) {
    this.profile = profile;
    this.runId = runId;
    this.services = services;
    this.output = output;
    this.context = context;
    this.timers = timers;
    this.effect = effect;
    this.log = context.getLog();
  }

  /** Decides and starts the next step of the current task. */
  ReplyEffect<RoleEvent, RoleState> step(RoleState state) {
    if (!state.active()) {
      if (state.status() != Status.IDLE && state.status() != Status.CANCELLED && !state.reported()
          && !reporting) {
        report(state);
      }
      return effect.noReply();
    }
    if (state.pendingCall() != null || awaitingBudget || modelInFlight || toolInFlight) {
      return effect.noReply();
    }
    if (state.requestedToolId() != null) {
      return effect.noReply();
    }
    if (!state.pendingTools().isEmpty()) {
      ToolCall call = state.pendingTools().get(0);
      if (!profile.allows(call.name())
          && services.mcp().grantFor(state.task().toolGrants(), call.name()).isEmpty()) {
        String refusal = "the " + profile.role().wireName() + " may not use the tool "
            + call.name();
        return effect.persist(List.of(new ToolCallRequested(call),
                new ToolCallCompleted(call.id(), refusal, true)))
            .thenRun(s -> {
              output.toolCalled(s.task(), call);
              output.toolResult(s.task(), call.id(), "error", refusal);
              context.getSelf().tell(Continue.INSTANCE);
            })
            .thenNoReply();
      }
      return effect.persist(new ToolCallRequested(call))
          .thenRun(s -> runTool(s, call))
          .thenNoReply();
    }
    ChatTurn last = state.messages().isEmpty() ? null
        : state.messages().get(state.messages().size() - 1);
    if (last != null && last.kind() == ChatTurn.Kind.ASSISTANT && last.toolCalls().isEmpty()) {
      return effect.persist(new TaskCompleted(state.task().taskId(), last.text()))
          .thenRun(this::report)
          .thenNoReply();
    }
    if (state.callsInTask() >= services.settings().maxCallsPerTask()) {
      return effect.persist(new TaskFailed(state.task().taskId(),
              "the task made " + state.callsInTask() + " model calls without finishing"))
          .thenRun(this::report)
          .thenNoReply();
    }
    String callId = callId(state.callCount());
    awaitingBudget = true;
    CompletionStage<BudgetDecision> decision;
    try {
      decision = services.run().reserve(runId, callId, profile.role(), state.task().model());
    } catch (RuntimeException e) {
      decision = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(decision, (d, error) -> error != null
        ? new BudgetAnswered(callId, false, "unreachable run: " + error.getMessage())
        : new BudgetAnswered(callId, d.granted(), d.reason()));
    return effect.noReply();
  }

  private String callId(long callIndex) {
    return profile.role().wireName() + "-" + callIndex;
  }

  ReplyEffect<RoleEvent, RoleState> onBudget(RoleState state, BudgetAnswered msg) {
    awaitingBudget = false;
    if (!state.active() || state.pendingCall() != null
        || !msg.callId().equals(callId(state.callCount()))) {
      return effect.noReply();
    }
    if (!msg.granted()) {
      if (msg.reason() != null && msg.reason().startsWith("unreachable run")) {
        timers.startSingleTimer(Continue.INSTANCE, services.settings().redeliverAfter());
        return effect.noReply();
      }
      return effect.persist(new TaskFailed(state.task().taskId(), "budget: " + msg.reason()))
          .thenRun(this::report)
          .thenNoReply();
    }
    Integer cut = compactionCut(state);
    RoleEvent request = cut != null
        ? new RoleEvent.CompactionRequested(msg.callId(), state.callCount(), 1,
            state.task().model(), cut)
        : new ModelCallRequested(msg.callId(), state.callCount(), 1, state.task().model());
    return effect.persist(request)
        .thenRun(this::issueModelCall)
        .thenNoReply();
  }

  /** What a compaction call is told. */
  static final String COMPACT_SYSTEM = "You compact a working conversation so that it can go"
      + " on within its context limit. Summarize the transcript you are given for the same"
      + " assistant, who will continue from your summary and the latest turns: the task, the"
      + " decisions made, the files written and what they are for, the commands run and their"
      + " results (exact failures), and what remains to do. Be concise and specific; keep"
      + " names, paths and numbers exact. Answer with the summary only.";

  /**
   * Where to cut the conversation for a compaction, or null when none is due: the task has a
   * threshold, the conversation is estimated above it (four characters a token), and at least
   * two turns would be summarized. The latest {@code compact-keep-turns} turns stay verbatim,
   * and the kept part never starts with a tool result (its call stays with it).
   */
  private Integer compactionCut(RoleState state) {
    int threshold = state.task().compactAboveTokens();
    if (threshold <= 0 || estimateTokens(state.messages()) <= threshold) {
      return null;
    }
    List<ChatTurn> turns = state.messages();
    int cut = Math.max(0, turns.size() - services.settings().compactKeepTurns());
    while (cut < turns.size() && turns.get(cut).kind() == ChatTurn.Kind.TOOL_RESULT) {
      cut++;
    }
    return cut >= 2 ? cut : null;
  }

  private long estimateTokens(List<ChatTurn> turns) {
    long chars = profile.systemPrompt().length();
    for (ChatTurn t : turns) {
      chars += t.text().length();
      for (ToolCall c : t.toolCalls()) {
        chars += c.name().length() + (c.argumentsJson() == null ? 0 : c.argumentsJson().length());
      }
    }
    return chars / 4;
  }

  /** The transcript of the turns a compaction summarizes, as one text. */
  private static String transcript(List<ChatTurn> turns) {
    StringBuilder t = new StringBuilder("Transcript of the earlier turns:\n");
    for (ChatTurn turn : turns) {
      switch (turn.kind()) {
        case USER -> t.append("\n[user]\n").append(turn.text()).append('\n');
        case ASSISTANT -> {
          t.append("\n[assistant]\n").append(turn.text()).append('\n');
          turn.toolCalls().forEach(c -> t.append("[tool call ").append(c.name()).append("] ")
              .append(c.argumentsJson()).append('\n'));
        }
        case TOOL_RESULT -> t.append("\n[result of ").append(turn.toolName()).append("]\n")
            .append(turn.text()).append('\n');
        default -> { }
      }
    }
    return t.append("\nWrite the summary now.").toString();
  }

  /** Starts the model call written ahead in {@code state}, streaming it into the session. */
  void issueModelCall(RoleState state) {
    PendingCall call = state.pendingCall();
    RoleTask task = state.task();
    AtomicBoolean callFence = new AtomicBoolean(false);
    AtomicBoolean callStreamed = new AtomicBoolean(false);
    fence = callFence;
    streamed = callStreamed;
    modelInFlight = true;
    CompletionStage<ModelResponse> response;
    try {
      ModelRef ref = ModelRef.parse(call.model());
      ModelProvider provider = services.providers().provider(ref);
      boolean scripted = provider.scripted();
      output.messageStarted(task, call, provider.name(), scripted);
      ModelStreamListener listener = new ModelStreamListener() {
        @Override
        public void onTextDelta(String text) {
          callStreamed.set(true);
          if (!callFence.get()) {
            output.messageDelta(task, call, text, scripted);
          }
        }

        @Override
        public boolean cancelled() {
          return callFence.get();
        }
      };
      List<io.tether.actors.harness.model.ChatTurn> messages = state.messages();
      if (call.compaction()) {
        List<ChatTurn> older = messages.subList(0, Math.min(call.compactBefore(),
            messages.size()));
        response = provider.stream(new ModelRequest(ref.model(), profile.role().wireName(),
            call.callIndex(), COMPACT_SYSTEM, List.of(ChatTurn.user(transcript(older))),
            List.of(), services.settings().maxOutputTokens()), listener);
      } else {
      response = services.mcp().specs(runId, profile.role().wireName(), task.toolGrants())
          .thenCompose(mcpTools -> {
            List<ToolSpec> offered = new ArrayList<>(profile.tools());
            offered.addAll(mcpTools);
            return provider.stream(new ModelRequest(ref.model(), profile.role().wireName(),
                call.callIndex(), profile.systemPrompt(), messages, offered,
                services.settings().maxOutputTokens()), listener);
          });
      }
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(response, (r, error) -> error == null
        ? ModelCallFinished.succeeded(call.callId(), call.attempt(), r)
        : ModelCallFinished.failed(call.callId(), call.attempt(), describe(error)));
  }

  private static String describe(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null
        ? e.getCause() : e;
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  ReplyEffect<RoleEvent, RoleState> onModelCallFinished(RoleState state, ModelCallFinished msg) {
    PendingCall pending = state.pendingCall();
    if (pending == null || !pending.callId().equals(msg.callId())
        || pending.attempt() != msg.attempt()) {
      return effect.noReply();
    }
    modelInFlight = false;
    if (!state.active()) {
      return effect.noReply();
    }
    if (msg.error() == null && pending.compaction()) {
      ModelResponse r = msg.response();
      return effect.persist(new RoleEvent.ContextCompacted(msg.callId(), r.text(),
              pending.compactBefore(), r.usage()))
          .thenRun(s -> {
            output.messageCompleted(s.task(), pending, r);
            output.compacted(s.task(), msg.callId(), pending.compactBefore(), r.text());
            services.run().settle(runId, msg.callId(), profile.role(), pending.model(),
                    r.usage(), s.task().sprint(), false)
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
    if (msg.error() == null) {
      ModelResponse r = msg.response();
      ChatTurn answer = ChatTurn.assistant(r.text(), r.toolCalls());
      return effect.persist(new ModelCallCompleted(msg.callId(), answer, r.usage()))
          .thenRun(s -> {
            output.messageCompleted(s.task(), pending, r);
            services.run().settle(runId, msg.callId(), profile.role(), pending.model(), r.usage(),
                    s.task().sprint(), false)
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
    output.messageFailed(state.task(), pending, msg.error());
    if (streamed.get()) {
      chargeCutOff(state, pending);
    }
    if (msg.attempt() <= services.settings().modelCallRetries()) {
      return effect.persist(new ModelCallRetried(msg.callId(), msg.attempt() + 1, msg.error()))
          .thenRun(this::issueModelCall)
          .thenNoReply();
    }
    return effect.persist(new TaskFailed(state.task().taskId(),
            "model call " + msg.callId() + " failed " + msg.attempt() + " times: " + msg.error()))
        .thenRun(this::report)
        .thenNoReply();
  }

  /**
   * Charges an attempt that was cut off after the provider received it (a stream that broke, a
   * node that died mid-stream): its usage never came back, so its input is estimated (four
   * characters a token, as the conversation it sent) and settled as {@code <callId>#<attempt>},
   * marked estimated. The re-issued attempt settles its own usage, so the budget counts both.
   */
  void chargeCutOff(RoleState state, PendingCall call) {
    long chars = profile.systemPrompt().length();
    for (io.tether.actors.harness.model.ChatTurn t : state.messages()) {
      chars += t.text().length();
    }
    services.run().settle(runId, call.callId() + "#" + call.attempt(), profile.role(),
            call.model(), new io.tether.actors.harness.model.TokenUsage(Math.max(1, chars / 4), 0),
            state.task().sprint(), true)
        .whenComplete((ack, error) -> {
          if (error != null) {
            log.warn("the cut-off attempt {} of {} was not charged to run {}: {}",
                call.attempt(), call.callId(), runId, error.toString());
          }
        });
  }

  private void runTool(RoleState state, ToolCall call) {
    output.toolCalled(state.task(), call);
    toolInFlight = true;
    RoleTask task = state.task();
    String role = profile.role().wireName();
    CompletionStage<WorkspaceTools.Outcome> outcome;
    try {
      // The run's policy, with every call: the network of a run's namespace on this node
      // follows it (a node that restarted, or another node the role moved to, learns it here).
      services.tools().allowEgress(runId, task.egress());
      outcome = profile.allows(call.name())
          ? services.tools().execute(runId, role, call)
          : services.mcp().call(runId, role, "s" + task.sprint() + "-a" + task.attempt() + "-"
              + role, task.toolGrants(), call);
    } catch (RuntimeException e) {
      outcome = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(outcome, (o, error) -> error == null
        ? new ToolCallFinished(call.id(), o.output(), o.error(), o.screenshots())
        : new ToolCallFinished(call.id(), "tool failed: " + describe(error), true));
  }

  ReplyEffect<RoleEvent, RoleState> onToolCallFinished(RoleState state, ToolCallFinished msg) {
    if (!msg.toolCallId().equals(state.requestedToolId())) {
      return effect.noReply();
    }
    toolInFlight = false;
    if (!state.active()) {
      return effect.noReply();
    }
    return effect.persist(new ToolCallCompleted(msg.toolCallId(), msg.output(), msg.error()))
        .thenRun(s -> {
          output.toolResult(s.task(), msg.toolCallId(), msg.error() ? "error" : "ok",
              msg.output());
          msg.screenshots().forEach(path -> output.screenshot(s.task(), msg.toolCallId(), path));
          context.getSelf().tell(Continue.INSTANCE);
        })
        .thenNoReply();
  }

  /** Reports the ended task to the Run; the answer comes back as {@link ReportAnswered}. */
  private void report(RoleState state) {
    if (state.task() == null) {
      return;
    }
    releaseProcesses();
    reporting = true;
    TaskOutcome outcome = new TaskOutcome(state.task().taskId(), profile.role(),
        state.status() == Status.COMPLETED, state.output());
    CompletionStage<Ack> answer;
    try {
      answer = services.run().report(runId, outcome);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    String taskId = state.task().taskId();
    context.pipeToSelf(answer, (ack, error) -> new ReportAnswered(taskId, error == null));
  }

  ReplyEffect<RoleEvent, RoleState> onReportAnswered(RoleState state, ReportAnswered msg) {
    reporting = false;
    if (state.task() == null || !state.task().taskId().equals(msg.taskId()) || state.reported()) {
      return effect.noReply();
    }
    if (!msg.acknowledged()) {
      timers.startSingleTimer(Continue.INSTANCE, services.settings().redeliverAfter());
      return effect.noReply();
    }
    return effect.persist(new TaskReported(msg.taskId())).thenNoReply();
  }

  /**
   * Stops the processes this role started with start_process and its MCP servers: its task has
   * ended. The run's egress stays as its calls last gave it: another role of the run may be in
   * the middle of a task on this node (this one may be passivating), and its processes keep
   * their network; the node forgets it with the run's idle network namespace.
   */
  void releaseProcesses() {
    services.tools().releaseProcesses(runId, profile.role().wireName());
    services.mcp().release(runId, profile.role().wireName());
  }

  /** Whether a model call of the current task is streaming. */
  boolean modelInFlight() {
    return modelInFlight;
  }

  /**
   * The current task ended (cancelled or superseded): the model call in flight streams nothing
   * more, and the results of its calls are ignored when they arrive (their ids are stale).
   */
  void taskEnded() {
    fence.set(true);
    awaitingBudget = false;
    modelInFlight = false;
    toolInFlight = false;
  }
}
