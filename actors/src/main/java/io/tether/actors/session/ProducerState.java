package io.tether.actors.session;

/**
 * What a stream remembers about one idempotent producer: its current epoch and the highest
 * batch sequence number accepted in that epoch.
 *
 * @param epoch the producer's current epoch; older epochs are fenced
 * @param lastSeq the highest accepted {@code Producer-Seq} within {@code epoch}
 */
public record ProducerState(long epoch, long lastSeq) {}
