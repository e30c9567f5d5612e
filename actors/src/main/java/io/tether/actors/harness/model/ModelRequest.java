package io.tether.actors.harness.model;

import java.util.List;

/**
 * One model call.
 *
 * @param model the model's name at its provider (without the provider prefix)
 * @param role the harness role calling (planner, generator, evaluator)
 * @param callIndex the role's model-call number in its run, stable across a retry
 * @param system the system prompt
 * @param messages the conversation so far
 * @param tools the tools offered
 * @param maxOutputTokens the completion limit
 */
public record ModelRequest(
    String model,
    String role,
    long callIndex,
    String system,
    List<ChatTurn> messages,
    List<ToolSpec> tools,
    int maxOutputTokens) {}
