package io.tether.http.streams;

import io.tether.benchmarks.jmh.Payloads;
import java.util.List;
import java.util.Optional;
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
 * {@link JsonMessages#split(byte[])}: the validation and one-level flattening of a JSON-mode
 * append body ({@code POST} and {@code PUT} in {@code DurableStreamsRoutes}) into the items the
 * session stores. The body is a JSON array of {@code items} objects, as a client that batches
 * token deltas sends it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JsonAppendBenchmark {

  /** Items in the appended JSON array. */
  @Param({"1", "16", "256"})
  public int items;

  /** Item size: a model token delta or a larger structured event. */
  @Param({"60", "4096"})
  public int itemBytes;

  private byte[] body;

  @Setup
  public void setUp() {
    body = Payloads.jsonArrayBody(Payloads.jsonItems(items, itemBytes));
    Optional<List<byte[]>> split = JsonMessages.split(body);
    if (split.isEmpty() || split.get().size() != items) {
      throw new IllegalStateException("the body does not split into " + items + " items");
    }
  }

  @Benchmark
  public Optional<List<byte[]>> splitJsonBody() {
    return JsonMessages.split(body);
  }
}
