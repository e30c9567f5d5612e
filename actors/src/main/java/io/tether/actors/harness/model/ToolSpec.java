package io.tether.actors.harness.model;

import java.util.List;

/**
 * A tool offered to a model: a name, what it does, and its parameters: flat and typed for the
 * built-in tools, or a whole JSON schema for a tool an MCP server describes.
 *
 * @param name the tool's name
 * @param description what the tool does, for the model
 * @param parameters the tool's parameters (empty when {@code inputSchemaJson} describes them)
 * @param inputSchemaJson the JSON schema of the tool's arguments object, or null
 */
public record ToolSpec(String name, String description, List<Param> parameters,
    String inputSchemaJson) {

  public ToolSpec {
    parameters = parameters == null ? List.of() : List.copyOf(parameters);
  }

  /** A tool with flat, typed parameters. */
  public ToolSpec(String name, String description, List<Param> parameters) {
    this(name, description, parameters, null);
  }

  /** One parameter of a tool. */
  public record Param(String name, Type type, String description, boolean required) {}

  /** The JSON type of a parameter. */
  public enum Type { STRING, INTEGER, BOOLEAN }
}
