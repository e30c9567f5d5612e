/**
 * How harness roles write into a run's durable session: the {@link
 * io.tether.actors.harness.session.SessionWriter} port, the event envelope of DESIGN.md section 3
 * ({@link io.tether.actors.harness.session.SessionEvents}), and {@link
 * io.tether.actors.harness.session.ProducerStream}, which keeps one producer's appends in order
 * and coalesces token deltas while an append is in flight (the session's own group commit then
 * makes a few journal writes out of many tokens).
 */
package io.tether.actors.harness.session;
