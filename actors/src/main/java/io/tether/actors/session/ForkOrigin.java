package io.tether.actors.session;

/**
 * Where a forked stream came from.
 *
 * @param sourceId the stream it inherits data from
 * @param requestedOffset the {@code Stream-Fork-Offset} exactly as requested, or null when the
 *     fork was taken at the source's tail; compared on idempotent re-creation
 * @param subOffset the {@code Stream-Fork-Sub-Offset} requested (0 when absent)
 * @param forkOffset the resolved divergence point: inherited data is everything at or before it
 */
public record ForkOrigin(String sourceId, String requestedOffset, long subOffset, Offset forkOffset) {}
