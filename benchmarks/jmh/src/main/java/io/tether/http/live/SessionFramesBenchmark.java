package io.tether.http.live;

import io.tether.actors.session.Offset;
import io.tether.benchmarks.jmh.Payloads;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link SessionFrames#event(Offset, byte[])}: the WebSocket {@code event} frame for one stored
 * item. A live connection builds one per item per subscriber (in
 * {@code SessionConnection.deliver}), so a fan-out of 1,000 subscribers builds it 1,000 times per
 * item.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SessionFramesBenchmark {

  /** Item size: a model token delta or a larger structured event. */
  @Param({"60", "4096"})
  public int itemBytes;

  private Offset offset;
  private byte[] item;

  @Setup
  public void setUp() {
    offset = new Offset(4_718_592L, 17L);
    item = Payloads.jsonItem(itemBytes, 17);
  }

  @Benchmark
  public String eventFrame() {
    return SessionFrames.event(offset, item);
  }
}
