package io.tether.actors.harness.model;

import java.util.List;

/**
 * A tool offered to a model: a name, what it does, and flat, typed parameters.
 *
 * @param name the tool's name
 * @param description what the tool does, for the model
 * @param parameters the tool's parameters
 */
public record ToolSpec(String name, String description, List<Param> parameters) {

  /** One parameter of a tool. */
  public record Param(String name, Type type, String description, boolean required) {}

  /** The JSON type of a parameter. */
  public enum Type { STRING, INTEGER, BOOLEAN }
}
