package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;
import java.util.List;

/**
 * An MCP server a role may use in a task, and which of its tools: the run policy's attachment
 * of a server to a role, resolved by the Run for the task it hands out.
 *
 * @param server the server's name in {@code tether.harness.mcp.servers} ({@code browser} is the
 *     built-in Playwright browser)
 * @param tools the tools allowed, by the server's names for them; {@code *} allows every tool
 */
public record ToolGrant(String server, List<String> tools) implements TetherSerializable {

  public ToolGrant {
    tools = tools == null ? List.of() : List.copyOf(tools);
  }

  /** Whether the server's tool {@code name} is allowed. */
  public boolean allows(String name) {
    return tools.contains("*") || tools.contains(name);
  }
}
