/**
 * The stream entity: {@link io.tether.actors.session.stream.SessionEntity} (dispatch, lifecycle,
 * signals) with its parts, each one job: {@link io.tether.actors.session.stream.GroupCommit}
 * (validation against the projected state, the buffer, the live layer's writes),
 * {@link io.tether.actors.session.stream.Chunking} (a group commit as events),
 * {@link io.tether.actors.session.stream.IdempotentProducers} (the producer rules),
 * {@link io.tether.actors.session.stream.StreamReads} (tail, journal, long-poll waiters,
 * replays), {@link io.tether.actors.session.stream.StreamExpiry} (TTL and Expires-At),
 * {@link io.tether.actors.session.stream.OutageAnswers} (reads and refused appends while the
 * journal fails), and the wiring ({@link io.tether.actors.session.stream.SessionSetup},
 * {@link io.tether.actors.session.stream.SessionSettings}). The decisions behind them are in the
 * {@code io.tether.actors.session} package documentation and {@code docs/architecture.md}.
 */
package io.tether.actors.session.stream;
