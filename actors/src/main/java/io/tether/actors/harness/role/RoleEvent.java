package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ChatTurn;
import io.tether.actors.harness.model.TokenUsage;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.task.RoleTask;
import io.tether.persistence.TetherSerializable;

/**
 * What happened to a role: its journal. {@link RoleState} says what each event changes. Model and
 * tool calls are written ahead ({@code ...Requested}) and after ({@code ...Completed}), so
 * recovery knows which call was in flight.
 *
 * <p>Journaled by Pekko's Jackson serializer with the class name as manifest: renaming or moving
 * one of these records needs a migration in {@code tether-serialization.conf} (see {@link
 * io.tether.actors.harness.HarnessClassRenames}), and a new one a golden entry in {@code
 * HarnessJournalCompatibilityTest}.
 */
public sealed interface RoleEvent extends TetherSerializable
    permits RoleEvent.TaskStarted, RoleEvent.ModelCallRequested, RoleEvent.ModelCallRetried,
        RoleEvent.ModelCallCompleted, RoleEvent.ToolCallRequested, RoleEvent.ToolCallCompleted,
        RoleEvent.ToolCallInDoubt, RoleEvent.TaskCompleted, RoleEvent.TaskFailed,
        RoleEvent.TaskCancelled, RoleEvent.TaskReported, RoleEvent.CompactionRequested,
        RoleEvent.ContextCompacted {

  /** A task was accepted and its prompt added to the conversation. */
  record TaskStarted(RoleTask task) implements RoleEvent {}

  /** A model call is about to start (written ahead). */
  record ModelCallRequested(String callId, long callIndex, int attempt, String model)
      implements RoleEvent {}

  /** A model call is being re-issued, after a failure or after recovery. */
  record ModelCallRetried(String callId, int attempt, String reason) implements RoleEvent {}

  /** A model call completed with this answer. */
  record ModelCallCompleted(String callId, ChatTurn answer, TokenUsage usage)
      implements RoleEvent {}

  /** A tool call is about to run (written ahead). */
  record ToolCallRequested(ToolCall call) implements RoleEvent {}

  /** A tool call completed with this output. */
  record ToolCallCompleted(String toolCallId, String output, boolean error)
      implements RoleEvent {}

  /** A tool call was interrupted by a crash: it may or may not have taken effect. */
  record ToolCallInDoubt(String toolCallId) implements RoleEvent {}

  /** The task produced its result. */
  record TaskCompleted(String taskId, String output) implements RoleEvent {}

  /** The task failed. */
  record TaskFailed(String taskId, String reason) implements RoleEvent {}

  /** The task was cancelled. */
  record TaskCancelled(String taskId, String reason) implements RoleEvent {}

  /** The Run acknowledged the task's result. */
  record TaskReported(String taskId) implements RoleEvent {}

  /**
   * A model call that summarizes the conversation's turns before {@code keepFrom} is about to
   * start (written ahead, like {@link ModelCallRequested}): the conversation passed the task's
   * compaction threshold.
   */
  record CompactionRequested(String callId, long callIndex, int attempt, String model,
      int keepFrom) implements RoleEvent {}

  /**
   * The summary came back: the conversation's first {@code replacedTurns} turns are replaced by
   * it (and the task's prompt), so a restart resumes with the summary and never asks for it
   * again.
   */
  record ContextCompacted(String callId, String summary, int replacedTurns, TokenUsage usage)
      implements RoleEvent {}
}
