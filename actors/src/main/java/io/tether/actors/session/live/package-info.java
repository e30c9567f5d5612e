/**
 * The live layer of a JSON session, on top of the stream entity:
 * {@link io.tether.actors.session.live.LiveSession} (subscribers and pushes, presence, controls
 * with their fences, agent loss, read cursors) and its parts
 * ({@link io.tether.actors.session.live.SubscriberRegistry},
 * {@link io.tether.actors.session.live.SessionLiveSettings}). It writes only through the
 * entity's group commit, so its events are ordered and fenced with every other append; what it
 * knows durably is the {@link io.tether.actors.session.SessionLedger} folded from the stream.
 */
package io.tether.actors.session.live;
