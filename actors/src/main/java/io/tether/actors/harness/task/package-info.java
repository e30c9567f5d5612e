/**
 * What a Run and its roles say to each other, and nothing else, so that neither package needs the
 * other: the unit of work ({@link io.tether.actors.harness.task.RoleTask}, with its {@link
 * io.tether.actors.harness.task.Role} and {@link io.tether.actors.harness.task.TaskKind}), how it
 * ended ({@link io.tether.actors.harness.task.TaskOutcome}), and the two ports: {@link
 * io.tether.actors.harness.task.RoleDispatch} (the Run hands a task to a role, which answers
 * {@link io.tether.actors.harness.task.Accepted}) and {@link
 * io.tether.actors.harness.task.RunLink} (a role asks its Run for budget, {@link
 * io.tether.actors.harness.task.BudgetDecision}, settles usage and reports the task's end, each
 * answered by an {@link io.tether.actors.harness.task.Ack}). The sharded implementations live
 * beside the entities they ask: {@code run.ShardedRunLink} and {@code role.ShardedRoleDispatch}.
 */
package io.tether.actors.harness.task;
