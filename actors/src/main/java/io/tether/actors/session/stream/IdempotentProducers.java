package io.tether.actors.session.stream;

import io.tether.actors.session.Offset;
import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session.AppendFailure;
import io.tether.actors.session.Session.AppendRejected;

/**
 * The idempotent-producer rules of the Durable Streams protocol, as a pure decision: given what
 * the stream (with its buffered appends) knows of a producer and the
 * {@code Producer-Id/Epoch/Seq} of a new append, accept it (with the producer's next state),
 * acknowledge it as a duplicate without writing, or refuse it.
 */
final class IdempotentProducers {
  private IdempotentProducers() {}

  /** What to do with an append from an idempotent producer. */
  sealed interface Decision {}

  /** Write it; the producer's state becomes {@code next}. */
  record Accept(ProducerState next) implements Decision {}

  /** Already written: acknowledge {@code epoch}/{@code lastSeq} and write nothing. */
  record Duplicate(long epoch, long lastSeq) implements Decision {}

  /** Refuse it. */
  record Refuse(AppendRejected rejection) implements Decision {}

  /**
   * Decides on {@code producer}'s append when the stream knows {@code known} of it (null: never
   * seen) and its tail is {@code tail}.
   */
  static Decision decide(ProducerState known, ProducerTuple producer, Offset tail) {
    return decide(known, producer, tail, false);
  }

  /**
   * {@link #decide(ProducerState, ProducerTuple, Offset)}, where with {@code mayGap} a sequence
   * only has to be above the last accepted one (and a new producer may start anywhere).
   */
  static Decision decide(ProducerState known, ProducerTuple producer, Offset tail,
      boolean mayGap) {
    if (known == null) {
      return producer.seq() == 0 || mayGap
          ? new Accept(new ProducerState(producer.epoch(), producer.seq()))
          : new Refuse(AppendRejected.gap(tail, 0, producer.seq()));
    }
    if (producer.epoch() < known.epoch()) {
      return new Refuse(AppendRejected.epoch(AppendFailure.STALE_EPOCH, tail, known.epoch()));
    }
    if (producer.epoch() > known.epoch()) {
      return producer.seq() == 0 || mayGap
          ? new Accept(new ProducerState(producer.epoch(), producer.seq()))
          : new Refuse(AppendRejected.epoch(AppendFailure.INVALID_EPOCH_SEQ, tail,
              known.epoch()));
    }
    if (producer.seq() <= known.lastSeq()) {
      return new Duplicate(known.epoch(), known.lastSeq());
    }
    if (producer.seq() == known.lastSeq() + 1 || mayGap) {
      return new Accept(new ProducerState(producer.epoch(), producer.seq()));
    }
    return new Refuse(AppendRejected.gap(tail, known.lastSeq() + 1, producer.seq()));
  }
}
