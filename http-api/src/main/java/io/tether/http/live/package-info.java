/**
 * JSON sessions over the wire: the session WebSocket ({@code /v1/sessions/{id}/ws}) and the
 * session REST API ({@code /v1/sessions}, {@code /openapi.json}).
 *
 * <p>Decisions recorded here (the README's "Sessions over WebSocket" has the frame format):
 *
 * <ul>
 *   <li>Wire records ({@link io.tether.http.live.SessionFrames},
 *       {@link io.tether.http.live.SessionViews}) are separate from the entity's messages and
 *       mapped explicitly, so the journal and the protocol evolve independently.
 *   <li>Every application/json stream is a session; items that are not event envelopes are
 *       carried verbatim and ignored by session semantics. Durable Streams appends stay
 *       byte-exact; only the WebSocket validates envelopes (and fills producer and time).
 *   <li>A connection actor lives on the node holding the socket, registers with the session
 *       entity through sharding (re-registering is its presence heartbeat) and delivers by
 *       offset, replaying from the entity whenever a push does not continue its sequence.
 *   <li>A slow client is throttled, not dropped: its bounded queue stops taking frames and the
 *       connection resumes by replay once half of it has drained.
 *   <li>Close and delete need {@code control}: they end the session for everyone.
 *   <li>History rolls up with {@code granularity: message}; live delivery is always raw deltas,
 *       because a user watching a stream wants its tokens as they come.
 * </ul>
 */
package io.tether.http.live;
