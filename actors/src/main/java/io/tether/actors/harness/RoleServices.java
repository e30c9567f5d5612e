package io.tether.actors.harness;

import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.session.SessionWriter;
import io.tether.actors.harness.workspace.WorkspaceTools;

/**
 * The collaborators of a role entity: providers to call, tools to run, the session to write
 * into, the Run to answer to, and the settings.
 */
public record RoleServices(
    ModelProviders providers,
    WorkspaceTools tools,
    SessionWriter sessions,
    RunLink run,
    HarnessSettings settings) {}
