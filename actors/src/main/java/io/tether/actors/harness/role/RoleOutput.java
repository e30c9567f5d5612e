package io.tether.actors.harness.role;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.model.ModelResponse;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.output.ProducerStream;
import io.tether.actors.harness.output.SessionEvents;
import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.harness.role.RoleState.PendingCall;
import io.tether.actors.harness.task.RoleTask;

/**
 * What a role writes into its run's session (the event types of the {@code harness.output}
 * package): its model calls as messages ({@code message.start}, {@code .delta}, {@code .end}),
 * its tool calls and results, the steers its task carries, and what a crash interrupted. Each
 * write follows the journal write it reports; deltas are offered from the provider's threads.
 */
final class RoleOutput {

  /** A tool's output beyond this many characters is cut in the session (never in the journal). */
  private static final int MAX_TOOL_OUTPUT_CHARS = 4000;

  private final String runId;
  private final String producer;
  private final SessionWriter sessions;
  private ProducerStream stream;

  RoleOutput(String runId, RoleProfile profile, SessionWriter sessions) {
    this.runId = runId;
    this.producer = profile.role().wireName();
    this.sessions = sessions;
  }

  /** The task's steer messages reached the role. */
  void steersAcknowledged(RoleTask task) {
    for (int i = 0; i < task.steers().size(); i++) {
      ObjectNode data = SessionEvents.data();
      data.put("kind", "steer");
      data.put("control", i < task.steerIds().size() ? task.steerIds().get(i) : null);
      data.put("consumed", true);
      data.put("taskId", task.taskId());
      data.put("text", task.steers().get(i));
      offer("control.ack", task, data);
    }
  }

  /** A model call's message starts. */
  void messageStarted(RoleTask task, PendingCall call, String provider, boolean scripted) {
    ObjectNode start = SessionEvents.data();
    start.put("id", messageId(call));
    start.put("callId", call.callId());
    start.put("attempt", call.attempt());
    start.put("role", producer);
    start.put("model", call.model());
    start.put("provider", provider);
    start.put("scripted", scripted);
    if (scripted) {
      start.put("label", "SCRIPTED OUTPUT (replayed from a recorded script, not a model)");
    }
    start.put("retry", call.attempt() > 1);
    if (call.compaction()) {
      start.put("purpose", "compact");
      start.put("compactedTurns", call.compactBefore());
    }
    offer("message.start", task, start);
  }

  /** Text the model streamed (called from the provider's threads). */
  void messageDelta(RoleTask task, PendingCall call, String text, boolean scripted) {
    ObjectNode delta = SessionEvents.data();
    delta.put("id", messageId(call));
    delta.put("callId", call.callId());
    delta.put("role", producer);
    delta.put("text", text);
    if (scripted) {
      delta.put("scripted", true);
    }
    offer("message.delta", task, delta);
  }

  /** The model's answer is complete. */
  void messageCompleted(RoleTask task, PendingCall call, ModelResponse response) {
    ObjectNode end = messageEnd(call, "complete");
    end.put("finishReason", response.finishReason());
    end.put("inputTokens", response.usage().inputTokens());
    end.put("outputTokens", response.usage().outputTokens());
    offer("message.end", task, end);
  }

  /** The model call failed (it may be retried as a new message). */
  void messageFailed(RoleTask task, PendingCall call, String error) {
    ObjectNode end = messageEnd(call, "error");
    end.put("error", error);
    offer("message.end", task, end);
  }

  /** The model call was cut off: its task was cancelled. */
  void messageCancelled(RoleTask task, PendingCall call) {
    offer("message.end", task, messageEnd(call, "cancelled"));
  }

  private ObjectNode messageEnd(PendingCall call, String status) {
    ObjectNode end = SessionEvents.data();
    end.put("id", messageId(call));
    end.put("callId", call.callId());
    end.put("status", status);
    return end;
  }

  /** The role's conversation was compacted: its first {@code replacedTurns} turns summarized. */
  void compacted(RoleTask task, String callId, int replacedTurns, String summary) {
    ObjectNode data = SessionEvents.data();
    data.put("callId", callId);
    data.put("role", producer);
    data.put("replacedTurns", replacedTurns);
    data.put("summary", summary.length() > MAX_TOOL_OUTPUT_CHARS
        ? summary.substring(0, MAX_TOOL_OUTPUT_CHARS) + "..." : summary);
    offer("context.compacted", task, data);
  }

  /** A tool call starts. */
  void toolCalled(RoleTask task, ToolCall call) {
    ObjectNode data = SessionEvents.data();
    data.put("toolCallId", call.id());
    data.put("role", producer);
    data.put("name", call.name());
    data.put("arguments", call.argumentsJson());
    offer("tool.call", task, data);
  }

  /** A tool call's result: {@code status} is ok, error or in_doubt. */
  void toolResult(RoleTask task, String toolCallId, String status, String output) {
    ObjectNode data = SessionEvents.data();
    data.put("toolCallId", toolCallId);
    data.put("role", producer);
    data.put("status", status);
    data.put("output", output.length() > MAX_TOOL_OUTPUT_CHARS
        ? output.substring(0, MAX_TOOL_OUTPUT_CHARS) + "..." : output);
    offer("tool.result", task, data);
  }

  /**
   * A tool call saved a screenshot in the run's workspace, at {@code path} (served decoded at
   * {@code /runs/<run>/files/<path>}).
   */
  void screenshot(RoleTask task, String toolCallId, String path) {
    ObjectNode data = SessionEvents.data();
    data.put("toolCallId", toolCallId);
    data.put("role", producer);
    data.put("sprint", task.sprint());
    data.put("attempt", task.attempt());
    data.put("path", path);
    data.put("url", "/runs/" + runId + "/files/" + path);
    offer("tool.screenshot", task, data);
  }

  /**
   * The role's node stopped mid-call: the model call {@code call} is re-issued, the tool call
   * {@code tool} is in doubt (either may be null).
   */
  void interrupted(RoleTask task, PendingCall call, ToolCall tool) {
    ObjectNode data = SessionEvents.data();
    data.put("role", producer);
    if (call != null) {
      data.put("callId", call.callId());
      data.put("modelCall", "re-issued");
    }
    if (tool != null) {
      data.put("toolCallId", tool.id());
      data.put("tool", tool.name());
      data.put("toolCall", "in_doubt");
    }
    offer("run.interrupted", task, data);
    if (tool != null) {
      toolResult(task, tool.id(), "in_doubt", RoleState.IN_DOUBT_RESULT);
    }
  }

  /** One message per attempt of a call: a retried call streams a new message. */
  private String messageId(PendingCall call) {
    return runId + "/" + call.callId() + "/" + call.attempt();
  }

  private void offer(String type, RoleTask task, ObjectNode data) {
    if (task == null) {
      return;
    }
    if (stream == null) {
      stream = new ProducerStream(sessions, task.sessionId(), producer);
    }
    stream.offer(SessionEvents.event(type, runId, task.step(), producer, data));
  }
}
