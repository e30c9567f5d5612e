package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.role.RoleEvent.CompactionRequested;
import io.tether.actors.harness.role.RoleEvent.ContextCompacted;
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
import io.tether.actors.harness.task.RoleTask;
import io.tether.persistence.TetherSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A role's state: its conversation and the task in progress (or the last one), and what each
 * {@link RoleEvent} changes in it (an {@code apply} method per event, which {@link RoleEntity}'s
 * event handler calls). Immutable: every change is a copy.
 *
 * <p>Snapshotted by Pekko's Jackson serializer: the record components are the snapshot's fields,
 * so renaming one needs a migration (see {@link RoleEvent}).
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
public record RoleState(
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

  /** What the model is told of a tool call a crash interrupted. */
  static final String IN_DOUBT_RESULT = "IN DOUBT: this tool call was interrupted by a crash"
      + " before its result was recorded; it may or may not have taken effect. Check the"
      + " workspace before repeating it.";

  /** Finished task ids remembered. */
  private static final int MAX_FINISHED_TASK_IDS = 200;

  /** Where a task is. */
  public enum Status { IDLE, ACTIVE, COMPLETED, FAILED, CANCELLED }

  /**
   * A model call written ahead and not yet completed; {@code compactBefore} is set for a call
   * that summarizes the turns before that index (null for an ordinary call).
   */
  public record PendingCall(String callId, long callIndex, int attempt, String model,
      Integer compactBefore) implements TetherSerializable {

    /** An ordinary call. */
    public PendingCall(String callId, long callIndex, int attempt, String model) {
      this(callId, callIndex, attempt, model, null);
    }

    /** Whether it summarizes the conversation. */
    boolean compaction() {
      return compactBefore != null;
    }
  }

  /** The turn that replaces a compacted conversation's older turns. */
  static String summaryTurn(String summary, String taskPrompt) {
    return "[Earlier turns of this conversation were compacted. Their summary:]\n" + summary
        + (taskPrompt == null ? "" : "\n\n[Your current task, as it was given:]\n"
            + taskPrompt);
  }

  /** A role that has performed no task. */
  static RoleState empty() {
    return new RoleState(null, Status.IDLE, null, true, List.of(), 0, 0, null, List.of(), null,
        0, List.of());
  }

  /** Whether a task is in progress. */
  boolean active() {
    return status == Status.ACTIVE;
  }

  /** The requested tool call, if one is written ahead. */
  ToolCall requestedTool() {
    return pendingTools.stream().filter(c -> c.id().equals(requestedToolId)).findFirst()
        .orElse(null);
  }

  // ------------------------------------------------------------ what each event changes

  RoleState apply(TaskStarted e) {
    RoleTask t = e.task();
    List<ChatTurn> conversation = t.resetContext() ? new ArrayList<>() : new ArrayList<>(messages);
    conversation.add(ChatTurn.user(t.prompt()));
    return new RoleState(t, Status.ACTIVE, null, false, List.copyOf(conversation), callCount, 0,
        null, List.of(), null, toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(ModelCallRequested e) {
    return new RoleState(task, status, output, reported, messages, callCount + 1,
        callsInTask + 1, new PendingCall(e.callId(), e.callIndex(), e.attempt(), e.model()),
        pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(ModelCallRetried e) {
    PendingCall p = pendingCall;
    return new RoleState(task, status, output, reported, messages, callCount, callsInTask,
        new PendingCall(p.callId(), p.callIndex(), e.attempt(), p.model(), p.compactBefore()),
        pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(CompactionRequested e) {
    return new RoleState(task, status, output, reported, messages, callCount + 1,
        callsInTask + 1,
        new PendingCall(e.callId(), e.callIndex(), e.attempt(), e.model(), e.keepFrom()),
        pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(ContextCompacted e) {
    List<ChatTurn> kept = messages.subList(Math.min(e.replacedTurns(), messages.size()),
        messages.size());
    boolean promptKept = task != null && kept.stream().anyMatch(t ->
        t.kind() == ChatTurn.Kind.USER && t.text().equals(task.prompt()));
    List<ChatTurn> next = new ArrayList<>();
    next.add(ChatTurn.user(summaryTurn(e.summary(),
        promptKept || task == null ? null : task.prompt())));
    next.addAll(kept);
    return new RoleState(task, status, output, reported, List.copyOf(next), callCount,
        callsInTask, null, pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(ModelCallCompleted e) {
    return new RoleState(task, status, output, reported, append(messages, e.answer()),
        callCount, callsInTask, null, e.answer().toolCalls(), null, toolCallsCompleted,
        finishedTaskIds);
  }

  RoleState apply(ToolCallRequested e) {
    return new RoleState(task, status, output, reported, messages, callCount, callsInTask,
        pendingCall, pendingTools, e.call().id(), toolCallsCompleted, finishedTaskIds);
  }

  RoleState apply(ToolCallCompleted e) {
    return toolDone(e.toolCallId(), e.error() ? "ERROR: " + e.output() : e.output(), true);
  }

  RoleState apply(ToolCallInDoubt e) {
    return toolDone(e.toolCallId(), IN_DOUBT_RESULT, false);
  }

  RoleState apply(TaskCompleted e) {
    return ended(Status.COMPLETED, e.output(), false);
  }

  RoleState apply(TaskFailed e) {
    return ended(Status.FAILED, e.reason(), false);
  }

  RoleState apply(TaskCancelled e) {
    return ended(Status.CANCELLED, e.reason(), true);
  }

  RoleState apply(TaskReported e) {
    return new RoleState(task, status, output, true, messages, callCount, callsInTask,
        pendingCall, pendingTools, requestedToolId, toolCallsCompleted, finishedTaskIds);
  }

  // ------------------------------------------------------------ copies

  private RoleState toolDone(String toolCallId, String result, boolean countsAsCompleted) {
    ToolCall call = pendingTools.stream().filter(c -> c.id().equals(toolCallId)).findFirst()
        .orElse(new ToolCall(toolCallId, "unknown", "{}"));
    List<ToolCall> rest = pendingTools.stream().filter(c -> !c.id().equals(toolCallId))
        .toList();
    return new RoleState(task, status, output, reported,
        append(messages, ChatTurn.toolResult(call, result)), callCount, callsInTask,
        pendingCall, rest, null, toolCallsCompleted + (countsAsCompleted ? 1 : 0),
        finishedTaskIds);
  }

  private RoleState ended(Status s, String out, boolean isReported) {
    List<String> finished = new ArrayList<>(finishedTaskIds);
    finished.add(task.taskId());
    return new RoleState(task, s, out, isReported, messages, callCount, callsInTask, null,
        List.of(), null, toolCallsCompleted, List.copyOf(finished.subList(
            Math.max(0, finished.size() - MAX_FINISHED_TASK_IDS), finished.size())));
  }

  private static List<ChatTurn> append(List<ChatTurn> list, ChatTurn turn) {
    List<ChatTurn> next = new ArrayList<>(list);
    next.add(turn);
    return List.copyOf(next);
  }
}
