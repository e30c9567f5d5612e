package io.tether.actors.harness.role;

import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The Generator: proposes each sprint's contract and builds the sprint with tools (files,
 * commands, long-lived processes, HTTP probes), fixing what the evaluator's feedback names. Keyed
 * by run id, with its own conversation in its own journal ({@code Generator|<run id>}); its loop
 * is {@link RoleEntity}'s.
 */
public final class Generator {

  /** The sharded entity type; {@code Harness} registers it with {@link #PROFILE}. */
  public static final EntityTypeKey<RoleCommand> ENTITY_TYPE_KEY =
      EntityTypeKey.create(RoleCommand.class, "Generator");

  /** The role's system prompt and tools. */
  public static final RoleProfile PROFILE = new RoleProfile(Role.GENERATOR,
      "You are the generator of a software-building harness. You work one sprint at a time:"
          + " first you agree a contract with the evaluator (what you build and how it is"
          + " verified), then you build it in the workspace with your tools and check your own"
          + " work by running it. Files are the hand-off medium: keep the code and tests in the"
          + " workspace.",
      List.of(WorkspaceTools.READ_FILE, WorkspaceTools.WRITE_FILE, WorkspaceTools.LIST_FILES,
          WorkspaceTools.RUN_COMMAND, WorkspaceTools.START_PROCESS, WorkspaceTools.STOP_PROCESS,
          WorkspaceTools.HTTP_PROBE));

  private Generator() {}

  /** The generator of run {@code runId}. */
  public static Behavior<RoleCommand> create(String runId, RoleServices services) {
    return RoleEntity.create(ENTITY_TYPE_KEY, PROFILE, runId, services);
  }
}
