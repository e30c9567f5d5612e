package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.task.Role;
import java.util.List;

/**
 * What makes a role itself: its system prompt and the tools it may use.
 *
 * @param role the role
 * @param systemPrompt the instructions every call of the role starts with
 * @param tools the tools offered to its model; calls to other tools are refused
 */
public record RoleProfile(Role role, String systemPrompt, List<ToolSpec> tools) {

  /** Whether the role may call {@code toolName}. */
  public boolean allows(String toolName) {
    return tools.stream().anyMatch(t -> t.name().equals(toolName));
  }
}
