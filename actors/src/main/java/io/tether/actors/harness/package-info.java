/**
 * The Planner-Generator-Evaluator harness. {@link io.tether.actors.harness.Harness} is its entry
 * point on a node: it builds the harness's services from {@code tether.harness} ({@link
 * io.tether.actors.harness.HarnessSettings}) and registers its entities with cluster sharding,
 * passing each the services it needs; {@link io.tether.actors.harness.HarnessClassRenames} keeps
 * journals written under earlier class names readable.
 *
 * <p>What lives where:
 *
 * <ul>
 *   <li>{@code run}: the {@link io.tether.actors.harness.run.Run} entity (the state machine and
 *       budget ledger), its protocol, journal and state, the transition rules ({@link
 *       io.tether.actors.harness.run.RunFlow}), what it publishes ({@link
 *       io.tether.actors.harness.run.RunPublisher}), the policy of a run, and the run index.
 *   <li>{@code role}: the role entities ({@link io.tether.actors.harness.role.Planner}, {@link
 *       io.tether.actors.harness.role.Generator}, {@link io.tether.actors.harness.role.Evaluator},
 *       each a sharded event-sourced entity keyed by run id with its own conversation in its own
 *       journal, all driven by {@link io.tether.actors.harness.role.RoleEntity}) and their model
 *       and tool loop.
 *   <li>{@code task}: what a Run and its roles say to each other, so neither package needs the
 *       other.
 *   <li>{@code output}: what the harness writes into sessions, and the event types a client
 *       watching a run receives.
 *   <li>{@code model}: the model providers (real ones through LangChain4j, and the scripted one).
 *   <li>{@code workspace}: a run's durable files, and the tools roles use on them.
 * </ul>
 *
 * <p>The Run hands a role one {@link io.tether.actors.harness.task.RoleTask} at a time and
 * interprets the result; the role runs its model and tool loop, writing every model call and tool
 * call ahead and after, and writes its own output into the run's session.
 *
 * <p>Decisions: a run that exhausts its attempts on a sprint ends as failed (later sprints
 * usually build on it); pause takes effect between role tasks (the task in progress finishes);
 * cancel takes effect at the next model call of the active role (its reservation is refused) and
 * fences its stream at once; contract negotiation that reaches its round limit builds against
 * the last proposal and says so in the session.
 */
package io.tether.actors.harness;
