package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;

/** A role's answer to a task or a cancel: it is durably recorded. */
public record Accepted(String taskId) implements TetherSerializable {}
