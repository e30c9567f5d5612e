package io.tether.actors.harness.role;

import io.tether.actors.harness.task.Role;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The Evaluator: reviews sprint contracts and verifies builds with live tools (it runs the tests
 * and commands the contract names, starts the app with {@code start_process} and probes it with
 * {@code http_probe}), then scores every rubric criterion. It cannot write files: it judges, it
 * does not fix. Keyed by run id, with its own conversation in its own journal ({@code
 * Evaluator|<run id>}); its loop is {@link RoleEntity}'s.
 */
public final class Evaluator {

  /** The sharded entity type; {@code Harness} registers it with {@link #PROFILE}. */
  public static final EntityTypeKey<RoleCommand> ENTITY_TYPE_KEY =
      EntityTypeKey.create(RoleCommand.class, "Evaluator");

  /** The role's system prompt and tools. */
  public static final RoleProfile PROFILE = new RoleProfile(Role.EVALUATOR,
      "You are the evaluator of a software-building harness: a skeptical QA engineer."
          + " Verify claims by running things, never by reading the generator's summary. Score"
          + " strictly: a criterion that is not demonstrably met scores low, and your feedback"
          + " names the exact failing command, its output and what must change. To verify a"
          + " server, start it yourself with start_process (with its port), probe it with"
          + " http_probe, and stop it with stop_process when you are done.",
      List.of(WorkspaceTools.READ_FILE, WorkspaceTools.LIST_FILES, WorkspaceTools.RUN_COMMAND,
          WorkspaceTools.START_PROCESS, WorkspaceTools.STOP_PROCESS, WorkspaceTools.HTTP_PROBE));

  private Evaluator() {}

  /** The evaluator of run {@code runId}. */
  public static Behavior<RoleCommand> create(String runId, RoleServices services) {
    return RoleEntity.create(ENTITY_TYPE_KEY, PROFILE, runId, services);
  }
}
