package io.tether.actors.harness.role;

import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The Planner: turns a 1-4 sentence prompt into a product-level spec split into sprints. It may
 * read and write workspace files; its final answer is the spec. Keyed by run id, with its own
 * conversation in its own journal ({@code Planner|<run id>}); its loop is {@link RoleEntity}'s.
 */
public final class Planner {

  /** The sharded entity type; {@code Harness} registers it with {@link #PROFILE}. */
  public static final EntityTypeKey<RoleCommand> ENTITY_TYPE_KEY =
      EntityTypeKey.create(RoleCommand.class, "Planner");

  /** The role's system prompt and tools. */
  public static final RoleProfile PROFILE = new RoleProfile(Role.PLANNER,
      "You are the planner of a software-building harness. You turn a short product prompt into"
          + " an ambitious but coherent product spec at the product level (features, users,"
          + " behaviour), not an implementation plan. Keep technical detail out of the spec so"
          + " that the builder can choose.",
      List.of(WorkspaceTools.READ_FILE, WorkspaceTools.WRITE_FILE, WorkspaceTools.LIST_FILES));

  private Planner() {}

  /** The planner of run {@code runId}. */
  public static Behavior<RoleCommand> create(String runId, RoleServices services) {
    return RoleEntity.create(ENTITY_TYPE_KEY, PROFILE, runId, services);
  }
}
