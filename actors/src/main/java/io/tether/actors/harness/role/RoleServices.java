package io.tether.actors.harness.role;

import io.tether.actors.harness.model.ModelProviders;
import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.harness.task.RunLink;
import io.tether.actors.harness.workspace.WorkspaceTools;

/**
 * The collaborators of a role entity, passed in by whoever registers it (the {@code Harness} on a
 * node, a test alone): providers to call, tools to run, the session to write into, the Run to
 * answer to, and the settings.
 */
public record RoleServices(
    ModelProviders providers,
    WorkspaceTools tools,
    SessionWriter sessions,
    RunLink run,
    RoleSettings settings) {}
