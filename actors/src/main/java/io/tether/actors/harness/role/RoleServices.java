package io.tether.actors.harness.role;

import io.tether.actors.harness.mcp.McpTools;
import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.harness.task.RunLink;
import io.tether.actors.harness.workspace.WorkspaceTools;

/**
 * The collaborators of a role entity, passed in by whoever registers it (the {@code Harness} on a
 * node, a test alone): providers to call, tools to run (built-in and from MCP servers), the
 * session to write into, the Run to answer to, and the settings.
 */
public record RoleServices(
    ModelProviders providers,
    WorkspaceTools tools,
    SessionWriter sessions,
    RunLink run,
    RoleSettings settings,
    McpTools mcp) {

  public RoleServices {
    mcp = mcp == null ? McpTools.none() : mcp;
  }

  /** Without MCP servers. */
  public RoleServices(ModelProviders providers, WorkspaceTools tools, SessionWriter sessions,
      RunLink run, RoleSettings settings) {
    this(providers, tools, sessions, run, settings, McpTools.none());
  }
}
