package io.tether.actors.harness.workspace;

import java.util.concurrent.CompletionStage;

/** Access to runs' durable workspaces, from any node. */
public interface WorkspaceStore {

  /** Every file of a run's workspace, with its version. */
  CompletionStage<Workspace.Files> files(String runId);

  /** Writes one file; completes once it is durable. */
  CompletionStage<Workspace.Written> write(String runId, String path, String content,
      String author);
}
