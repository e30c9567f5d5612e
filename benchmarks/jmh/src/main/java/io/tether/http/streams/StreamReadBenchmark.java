package io.tether.http.streams;

import io.tether.benchmarks.jmh.Payloads;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The Durable Streams read paths' encoding of a batch of stored JSON items:
 * {@link JsonMessages#asArray(List)} is the body of a JSON-mode catch-up or long-poll read
 * ({@code DurableStreamsRoutes}), {@link SseFrames#data(String, List)} is one SSE {@code data}
 * event of a live SSE read ({@code SseReads}), both from the {@code List<byte[]>} a read returns.
 *
 * <p>{@code sseDataReference} is not Tether code: the same bytes as {@code sseData} (checked in
 * setup), written straight into a byte array with a byte scan for line breaks instead of a
 * UTF-8 decode, a regular-expression split and a re-encode.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class StreamReadBenchmark {

  private static final String JSON = "application/json";

  /** Items in the read's batch. */
  @Param({"1", "16", "256"})
  public int items;

  /** Item size: a model token delta or a larger structured event. */
  @Param({"60", "4096"})
  public int itemBytes;

  private List<byte[]> batch;

  @Setup
  public void setUp() {
    batch = Payloads.jsonItems(items, itemBytes);
    if (!Arrays.equals(SseFrames.data(JSON, batch).toArray(), sseDataReference(batch))) {
      throw new IllegalStateException("the reference does not match SseFrames.data");
    }
  }

  @Benchmark
  public byte[] jsonReadBody() {
    return JsonMessages.asArray(batch);
  }

  @Benchmark
  public ByteString sseData() {
    return SseFrames.data(JSON, batch);
  }

  @Benchmark
  public byte[] sseDataReference() {
    return sseDataReference(batch);
  }

  private static final byte[] EVENT = "event: data\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);

  private static byte[] sseDataReference(List<byte[]> items) {
    byte[] payload = JsonMessages.asArray(items);
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 32);
    out.writeBytes(EVENT);
    out.writeBytes(DATA);
    int lineStart = 0;
    for (int i = 0; i < payload.length; i++) {
      byte b = payload[i];
      if (b == '\r' || b == '\n') {
        out.write(payload, lineStart, i - lineStart);
        out.write('\n');
        out.writeBytes(DATA);
        if (b == '\r' && i + 1 < payload.length && payload[i + 1] == '\n') {
          i++;
        }
        lineStart = i + 1;
      }
    }
    out.write(payload, lineStart, payload.length - lineStart);
    out.write('\n');
    out.write('\n');
    return out.toByteArray();
  }
}
