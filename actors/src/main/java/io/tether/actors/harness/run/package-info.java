/**
 * A harness run. {@link io.tether.actors.harness.run.Run} is the entity: it accepts {@link
 * io.tether.actors.harness.run.RunCommand}s (answering clients with a {@link
 * io.tether.actors.harness.run.RunSummary}), journals {@link
 * io.tether.actors.harness.run.RunEvent}s, and folds them into its {@link
 * io.tether.actors.harness.run.RunState}. What happens next in a run is decided by the pure rules
 * of {@link io.tether.actors.harness.run.RunFlow}; what a run writes into its session, its
 * workspace and the node's metrics is {@link io.tether.actors.harness.run.RunPublisher}'s job.
 * {@link io.tether.actors.harness.run.RunPolicy} is what a run is started with; {@link
 * io.tether.actors.harness.run.RunIndex} lists runs for clients; {@link
 * io.tether.actors.harness.run.SessionControls} follows a run's session for the cancels and
 * steers sent through it; {@link io.tether.actors.harness.run.ShardedRunLink} is how roles reach
 * the sharded Run.
 */
package io.tether.actors.harness.run;
