package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;
import java.util.List;

/**
 * One unit of work the Run hands to a role.
 *
 * @param taskId unique within the run; a role performs a task at most once
 * @param runId the run
 * @param sessionId the run's session, where the role writes its output
 * @param role the role that performs it
 * @param kind what to do
 * @param sprint the sprint (1-based; 0 for planning)
 * @param attempt the build attempt within the sprint (1-based)
 * @param round the contract round (1-based)
 * @param model the model as provider:model
 * @param prompt the task's instructions, including the structured hand-off
 * @param resetContext whether the role starts a fresh conversation for it
 * @param steers human steer messages delivered with this task
 * @param steerIds the control id of each steer message, acknowledged when the task starts
 * @param toolGrants the MCP servers (and their tools) the role may use in this task
 * @param compactAboveTokens when the role's conversation is estimated above this many tokens,
 *     its older turns are summarized by the model before the next call (0: never)
 * @param egress whether the run's tools reach beyond the run's own loopback (its policy's
 *     {@code egress}; the node grants it only where its operator allows)
 */
public record RoleTask(
    String taskId,
    String runId,
    String sessionId,
    Role role,
    TaskKind kind,
    int sprint,
    int attempt,
    int round,
    String model,
    String prompt,
    boolean resetContext,
    List<String> steers,
    List<String> steerIds,
    List<ToolGrant> toolGrants,
    int compactAboveTokens,
    boolean egress) implements TetherSerializable {

  public RoleTask {
    steers = steers == null ? List.of() : List.copyOf(steers);
    steerIds = steerIds == null ? List.of() : List.copyOf(steerIds);
    toolGrants = toolGrants == null ? List.of() : List.copyOf(toolGrants);
  }

  /** A task without egress. */
  public RoleTask(String taskId, String runId, String sessionId, Role role, TaskKind kind,
      int sprint, int attempt, int round, String model, String prompt, boolean resetContext,
      List<String> steers, List<String> steerIds, List<ToolGrant> toolGrants,
      int compactAboveTokens) {
    this(taskId, runId, sessionId, role, kind, sprint, attempt, round, model, prompt,
        resetContext, steers, steerIds, toolGrants, compactAboveTokens, false);
  }

  /** A task without MCP tools, compaction or egress. */
  public RoleTask(String taskId, String runId, String sessionId, Role role, TaskKind kind,
      int sprint, int attempt, int round, String model, String prompt, boolean resetContext,
      List<String> steers, List<String> steerIds) {
    this(taskId, runId, sessionId, role, kind, sprint, attempt, round, model, prompt,
        resetContext, steers, steerIds, List.of(), 0);
  }

  /** A task whose steer messages have no control ids. */
  public RoleTask(String taskId, String runId, String sessionId, Role role, TaskKind kind,
      int sprint, int attempt, int round, String model, String prompt, boolean resetContext,
      List<String> steers) {
    this(taskId, runId, sessionId, role, kind, sprint, attempt, round, model, prompt,
        resetContext, steers, List.of());
  }

  /** The step label used in session events, e.g. {@code s1.a2.build}. */
  public String step() {
    return "s" + sprint + ".a" + attempt + ".r" + round + "." + kind.name().toLowerCase();
  }
}
