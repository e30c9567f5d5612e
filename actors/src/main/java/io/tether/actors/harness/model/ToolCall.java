package io.tether.actors.harness.model;

import io.tether.persistence.TetherSerializable;

/**
 * A tool call a model asked for.
 *
 * @param id the provider's id for the call, echoed in the result
 * @param name the tool's name
 * @param argumentsJson the arguments as a JSON object text
 */
public record ToolCall(String id, String name, String argumentsJson) implements TetherSerializable {}
