package io.tether.actors.session.stream;

import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.StreamState;
import io.tether.benchmarks.jmh.Payloads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@link GroupCommitBuffer}: one group commit's worth of appends added, then drained as one
 * batch. Per append it does what {@code GroupCommit.accept} asks of the buffer (closed? the
 * producer's projected state, the byte and count bound, {@code add}); the drain is what
 * {@code GroupCommit.take} reads before it builds the events ({@code entries},
 * {@code producerUpdates}, {@code streamSeqUpdate}, {@code closes}) and {@code clear}.
 *
 * <p>Each append carries one 60-byte token delta from one idempotent producer with the next
 * sequence number, as a token-streaming agent's appends do. The {@code Entry} and
 * {@code ProducerState} values are built in setup: they are the session's allocations, not the
 * buffer's. {@code onFlush}'s chunking into events is private to {@code Session} and not
 * measured here.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GroupCommitBufferBenchmark {

  /** Appends waiting when the flush runs. */
  @Param({"1", "16", "256"})
  public int appends;

  private static final String PRODUCER = "agent-7f3c";

  private final GroupCommitBuffer buffer = new GroupCommitBuffer();
  private StreamState state;
  private List<GroupCommitBuffer.Entry> entries;
  private List<ProducerState> updates;

  @Setup
  public void setUp() {
    state = StreamState.empty();
    entries = new ArrayList<>(appends);
    updates = new ArrayList<>(appends);
    for (int i = 0; i < appends; i++) {
      ProducerTuple producer = new ProducerTuple(PRODUCER, 1, i);
      entries.add(new GroupCommitBuffer.Entry(null,
          List.of(Payloads.jsonItem(Payloads.TOKEN_DELTA_BYTES, i)), producer, false, false, 1, i));
      updates.add(new ProducerState(1, i));
    }
  }

  @Benchmark
  public void addAndDrain(Blackhole bh) {
    for (int i = 0; i < appends; i++) {
      GroupCommitBuffer.Entry entry = entries.get(i);
      bh.consume(buffer.closed(state));
      bh.consume(buffer.producer(state, PRODUCER));
      bh.consume(buffer.bytes() + buffer.size());
      buffer.add(entry, updates.get(i), null);
    }
    bh.consume(buffer.entries());
    bh.consume(buffer.producerUpdates());
    bh.consume(buffer.streamSeqUpdate());
    bh.consume(buffer.closes());
    buffer.clear();
  }
}
