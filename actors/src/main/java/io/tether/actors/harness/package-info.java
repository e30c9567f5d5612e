/**
 * The Planner-Generator-Evaluator harness (DESIGN.md section 5): {@link
 * io.tether.actors.harness.Run} is the state machine and budget ledger; {@link
 * io.tether.actors.harness.Planner}, {@link io.tether.actors.harness.Generator} and {@link
 * io.tether.actors.harness.Evaluator} are the roles, each a sharded event-sourced entity keyed by
 * run id with its own conversation in its own journal, all driven by {@link
 * io.tether.actors.harness.RoleEntity}. The Run hands a role one {@link
 * io.tether.actors.harness.RoleTask} at a time and interprets the result ({@link
 * io.tether.actors.harness.RunFlow}); the role runs its model and tool loop, writing every model
 * call and tool call ahead and after, and writes its own output into the run's session.
 *
 * <p>Decisions: a run that exhausts its attempts on a sprint ends as failed (later sprints
 * usually build on it); pause takes effect between role tasks (the task in progress finishes);
 * cancel takes effect at the next model call of the active role (its reservation is refused) and
 * fences its stream at once; contract negotiation that reaches its round limit builds against
 * the last proposal and says so in the session.
 */
package io.tether.actors.harness;
