package io.tether.http.streams;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tether.benchmarks.jmh.Payloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
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
 *
 * <p>{@code splitJsonBodyReference} is not Tether code: a token-by-token streaming copy of each
 * top-level element into one reused buffer (no tree, no serializer per element), which produces
 * the same items for these bodies (checked in setup; they hold only strings and integers). It
 * shows what the tree and the per-element {@code writeValueAsBytes} cost.
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

  private static final JsonFactory FACTORY = new JsonFactory();

  private byte[] body;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(8192);

  @Setup
  public void setUp() throws IOException {
    body = Payloads.jsonArrayBody(Payloads.jsonItems(items, itemBytes));
    Optional<List<byte[]>> split = JsonMessages.split(body);
    if (split.isEmpty() || split.get().size() != items) {
      throw new IllegalStateException("the body does not split into " + items + " items");
    }
    List<byte[]> reference = splitReference(body, buffer);
    for (int i = 0; i < items; i++) {
      if (!Arrays.equals(split.get().get(i), reference.get(i))) {
        throw new IllegalStateException("the reference does not match JsonMessages.split");
      }
    }
  }

  @Benchmark
  public Optional<List<byte[]>> splitJsonBody() {
    return JsonMessages.split(body);
  }

  @Benchmark
  public List<byte[]> splitJsonBodyReference() throws IOException {
    return splitReference(body, buffer);
  }

  private static List<byte[]> splitReference(byte[] body, ByteArrayOutputStream buffer)
      throws IOException {
    List<byte[]> out = new ArrayList<>();
    try (JsonParser parser = FACTORY.createParser(body)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        return null;
      }
      if (first == JsonToken.START_ARRAY) {
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          out.add(copyValue(parser, buffer));
        }
      } else {
        out.add(copyValue(parser, buffer));
      }
      if (parser.nextToken() != null) {
        return null;
      }
    }
    return out;
  }

  private static byte[] copyValue(JsonParser parser, ByteArrayOutputStream buffer)
      throws IOException {
    buffer.reset();
    try (JsonGenerator generator = FACTORY.createGenerator(buffer)) {
      int depth = 0;
      do {
        JsonToken token = parser.currentToken();
        generator.copyCurrentEventExact(parser);
        if (token.isStructStart()) {
          depth++;
        } else if (token.isStructEnd()) {
          depth--;
        }
      } while (depth > 0 && parser.nextToken() != null);
    }
    return buffer.toByteArray();
  }
}
