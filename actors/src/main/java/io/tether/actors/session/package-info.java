/**
 * Durable sessions: a durable, ordered, resumable stream of items (the unit of the Durable
 * Streams protocol), one sharded event-sourced entity per stream. This package is what the rest
 * of Tether uses: the protocol ({@link io.tether.actors.session.Session}), the events
 * ({@link io.tether.actors.session.SessionEvent}), the state
 * ({@link io.tether.actors.session.StreamState}, with the JSON session's
 * {@link io.tether.actors.session.SessionLedger}), offsets, pushes to live subscribers, and the
 * client every other module asks through ({@link io.tether.actors.session.SessionStreams}).
 * The entity itself lives in {@code session.stream}; the JSON-session layer (presence, controls,
 * cursors) in {@code session.live}. Dependencies point one way: {@code stream} uses {@code live},
 * both use this package, and this package uses neither.
 *
 * <p>Decisions recorded here:
 *
 * <ul>
 *   <li><b>Offsets</b> are {@code <position>_<index>}, two zero-padded 16-digit decimals: the
 *       journal position (stream base + sequence number) of the event holding an item and the
 *       item's 1-based index in it. {@code 0000000000000000_0000000000000000} is every stream's
 *       start. A fork's base is its fork point's position, so its own offsets sort after what it
 *       inherits, in the same offset space as its source.
 *   <li><b>Group commit</b>: appends are buffered in the entity and a self-sent {@code Flush}
 *       persists the buffer as one write; appends that arrive while it is in flight wait in
 *       Pekko's internal stash and form the next batch. Payloads over
 *       {@code tether.session.chunk-bytes} are split over several events of the same atomic
 *       write (a single Cassandra partition batch).
 *   <li><b>Reads</b>: the newest items live in a bounded tail in the state (and in snapshots);
 *       older ranges come from {@code currentEventsByPersistenceId} by sequence range. Long-poll
 *       and SSE readers are waiters answered right after a write; the journal is never polled.
 *       SSE is a chain of such waits, each a fresh ask through sharding, so a reader survives
 *       the entity moving to another node.
 *   <li><b>Stream-Seq</b> is scoped per stream and compared as Java strings (byte-wise for
 *       ASCII).
 *   <li><b>TTL</b>: the sliding window's last access is kept in memory, not persisted per read
 *       (that would cost a write per read). A graceful stop (passivation, hand-off) records it
 *       in an {@code AccessRecorded} event and schedules a wake-up at the deadline, so an idle
 *       passivated stream still expires on time and its data is removed; the first access of
 *       the next incarnation forgets the record. After a crash the window counts from
 *       recovery: a TTL can be extended by a crash, never shortened. Expiry is also checked on
 *       every request and by a timer while the entity is alive.
 *   <li><b>Delete</b> persists {@code StreamDeleted}; reads never look before the current
 *       incarnation's creation (the retention horizon), and a hard delete purges the earlier
 *       events and the snapshots ({@code tether.session.purge-on-delete}). A stream still read by
 *       forks is soft-deleted (410) until its last fork is released.
 *   <li><b>Journal failures</b>: a failed or timed-out write (or recovery) restarts the event
 *       sourced behavior after {@code tether.session.persist-failure-backoff}. The appends of
 *       the write in flight and any still buffered are refused as journal-unavailable (HTTP 503 with
 *       Retry-After) at once, never acknowledged; a write that timed out may still have landed,
 *       so producers that must not duplicate use idempotent producer headers. While the behavior
 *       backs off or recovers after a failure, {@code OutageAnswers} refuses appends at once
 *       (503, never written later: they are not stashed) and answers plain reads from the last
 *       state the command handler saw (always durable: commands never run while a write is in
 *       flight); live waits and older ranges wait for the behavior. The entity object (buffer,
 *       waiters, subscribers) outlives the restart, since the supervision wraps only the behavior.
 *   <li><b>Fork bookkeeping</b> ({@code AcquireFork}/{@code ReleaseFork}) is at-most-once
 *       between entities: a lost release leaves a soft-deleted source's data in place, never
 *       loses a fork's data.
 * </ul>
 */
package io.tether.actors.session;
