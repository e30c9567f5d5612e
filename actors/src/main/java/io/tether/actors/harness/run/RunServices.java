package io.tether.actors.harness.run;

import io.tether.actors.harness.output.SessionWriter;
import io.tether.actors.harness.task.RoleDispatch;
import io.tether.actors.harness.workspace.WorkspaceStore;

/**
 * The collaborators of a {@link Run}, passed in by whoever registers it (the {@code Harness} on a
 * node, a test alone).
 *
 * @param roles how the run reaches its roles
 * @param workspace where it writes the hand-off files
 * @param sessions where it writes its progress
 * @param pricing what model calls cost
 * @param settings its timings
 * @param followSessionControls whether the run follows its Session entity for the cancels and
 *     steers clients send through it (off where there is no Session entity: tests)
 */
public record RunServices(RoleDispatch roles, WorkspaceStore workspace, SessionWriter sessions,
    Pricing pricing, RunSettings settings, boolean followSessionControls) {}
