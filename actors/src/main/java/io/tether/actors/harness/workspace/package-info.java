/**
 * The run workspace: files event-sourced per run by the {@link
 * io.tether.actors.harness.workspace.Workspace} entity and materialized into a local directory on
 * whichever node runs a tool, and the tools that act inside it (read, write, list, run a command,
 * start and stop a long-lived process, probe HTTP). Every process a tool starts, and every access
 * to the local directory, is confined by the {@link io.tether.actors.harness.workspace.Sandbox}
 * (bubblewrap: only the workspace writable, a minimal read-only system, an unprivileged user
 * without capabilities, and the run's own loopback-only network namespace, {@link
 * io.tether.actors.harness.workspace.RunNetworks}). Paths are confined to the workspace:
 * relative, without {@code ..}, and never through a symbolic link. Files created by a command
 * stay in the local directory of the node that ran it; only files written through {@code
 * write_file} (and the harness's own hand-off files) are part of the durable workspace.
 */
package io.tether.actors.harness.workspace;
