/**
 * The Durable Streams HTTP protocol (PROTOCOL.md of durable-streams/durable-streams, checked by
 * {@code @durable-streams/server-conformance-tests} 0.3.6) over the session entity.
 *
 * <p>Decisions recorded here:
 *
 * <ul>
 *   <li>Streams live under {@code /v1/stream/<id>}; {@code Stream-Forked-From} takes that path.
 *   <li>Long-poll waits {@code tether.streams.long-poll-timeout} (default 20 s; tests use 1 s).
 *       SSE closes connections after {@code tether.streams.sse-max-duration} (60 s) and sends a
 *       keep-alive comment after each idle {@code tether.streams.sse-wait}.
 *   <li>Data responses are {@code Cache-Control: private, max-age=60,
 *       stale-while-revalidate=300} ({@code tether.streams.data-cache-control}); empty, {@code offset=now}, long-poll 204 and HEAD responses
 *       are {@code no-store}; SSE is {@code no-cache}. ETags are
 *       {@code "<id>:<from>:<next>[:c]"}.
 *   <li>Pekko HTTP reports a request without {@code Content-Type} as
 *       {@code application/octet-stream}; such an append to a stream of another type is answered
 *       400 (missing type) rather than 409.
 *   <li>Errors are {@code application/problem+json}; bodies over
 *       {@code tether.streams.max-append-bytes} are 413; a stream whose producers outpace its journal is 429, an unreachable one
 *       503 with {@code Retry-After}.
 *   <li>HEAD must reach the routes as HEAD: {@code pekko.http.server.transparent-head-requests}
 *       has to be off, or HEAD would run a GET and reset a stream's TTL.
 * </ul>
 */
package io.tether.http.streams;
