/**
 * The web console: {@link io.tether.http.console.ConsoleRoutes} serves its page and modules
 * from the jar's {@code console/} resources at {@code /}, and {@link
 * io.tether.http.console.RunFilesRoutes} adds {@code GET /runs/{id}/files}, the one read the run
 * dashboard needed that the runs API did not offer.
 *
 * <p>Decisions recorded here:
 *
 * <ul>
 *   <li><b>No build step.</b> Plain ES modules and CSS, one module per job ({@code feed.js}
 *       the resumable read, {@code chat.js} the rendering, one module per view), so what the
 *       jar serves is what the repository holds and nothing is downloaded to build it.
 *   <li><b>A client of the public APIs only.</b> The console reads sessions over the session
 *       WebSocket ({@code /v1/sessions/{id}/ws}: history rolled up into whole messages, then
 *       live deltas, with per-event offsets, controls and presence), and falls back to Durable
 *       Streams long-poll (read only) where the WebSocket is not served or
 *       {@code ?transport=long-poll} asks for it. Runs come from the runs REST API.
 *   <li><b>Exactly once on screen.</b> The page tracks the offset after the last event it
 *       rendered and resumes after exactly that offset on every reconnect; events at or below it
 *       are dropped. A socket lost in the middle of the initial roll-up replays from the start
 *       (messages still open at that point were never sent), clearing the view first.
 *   <li><b>Tokens</b> come from {@code ?token=} once and stay in local storage; they go as
 *       {@code Authorization: Bearer}, or {@code access_token} on the WebSocket.
 * </ul>
 */
package io.tether.http.console;
