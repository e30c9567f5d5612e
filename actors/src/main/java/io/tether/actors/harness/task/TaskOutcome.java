package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;

/**
 * How a role's task ended.
 *
 * @param taskId the task
 * @param role the role that performed it
 * @param succeeded whether it produced a result
 * @param output the result, or why it failed
 */
public record TaskOutcome(String taskId, Role role, boolean succeeded, String output)
    implements TetherSerializable {}
