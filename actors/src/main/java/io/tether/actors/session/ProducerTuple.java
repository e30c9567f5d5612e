package io.tether.actors.session;

/**
 * The idempotent-producer headers of one append: {@code Producer-Id}, {@code Producer-Epoch},
 * {@code Producer-Seq}.
 *
 * @param producerId the client-chosen stable producer identity
 * @param epoch the producer's declared epoch
 * @param seq the batch sequence number within the epoch
 */
public record ProducerTuple(String producerId, long epoch, long seq) {}
