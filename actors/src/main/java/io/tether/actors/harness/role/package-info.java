/**
 * The harness roles. {@link io.tether.actors.harness.role.Planner}, {@link
 * io.tether.actors.harness.role.Generator} and {@link io.tether.actors.harness.role.Evaluator} are
 * a system prompt and a set of tools each ({@link io.tether.actors.harness.role.RoleProfile});
 * {@link io.tether.actors.harness.role.RoleEntity} is the entity all three run as: it accepts
 * {@link io.tether.actors.harness.role.RoleCommand}s, journals {@link
 * io.tether.actors.harness.role.RoleEvent}s and folds them into its {@link
 * io.tether.actors.harness.role.RoleState}. {@link io.tether.actors.harness.role.ToolLoop} is the
 * loop of model and tool calls of one task, {@link io.tether.actors.harness.role.RoleOutput}
 * what a role writes into its run's session, and {@link
 * io.tether.actors.harness.role.ShardedRoleDispatch} how the Run reaches the sharded roles.
 */
package io.tether.actors.harness.role;
