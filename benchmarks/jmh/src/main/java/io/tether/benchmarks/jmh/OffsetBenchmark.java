package io.tether.benchmarks.jmh;

import io.tether.actors.session.Offset;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link Offset#encode()} and {@link Offset#parse(String)}: every delivered item, every
 * {@code Stream-Next-Offset} header, every WebSocket event frame and SSE control event encodes
 * one offset; every read request and every WebSocket resume or ack parses one.
 *
 * <p>{@code encodeReference} and {@code parseReference} are not Tether code: a plain
 * fixed-width digit loop producing and accepting exactly the same text (checked in setup), to
 * show what {@code String.format} and the regular expression cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class OffsetBenchmark {

  private Offset offset;
  private String wire;

  @Setup
  public void setUp() {
    // A stream a few hours into a busy session: a 7-digit journal position, item 17 of its batch.
    offset = new Offset(4_718_592L, 17L);
    wire = offset.encode();
    if (!encodeReference(offset).equals(wire)
        || !parseReference(wire).equals(Offset.parse(wire))) {
      throw new IllegalStateException("the reference does not match Offset");
    }
  }

  @Benchmark
  public String encode() {
    return offset.encode();
  }

  @Benchmark
  public Optional<Offset> parse() {
    return Offset.parse(wire);
  }

  @Benchmark
  public String encodeReference() {
    return encodeReference(offset);
  }

  @Benchmark
  public Optional<Offset> parseReference() {
    return parseReference(wire);
  }

  private static String encodeReference(Offset offset) {
    byte[] out = new byte[33];
    digits(offset.position(), out, 0);
    out[16] = '_';
    digits(offset.index(), out, 17);
    return new String(out, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private static void digits(long value, byte[] out, int from) {
    long v = value;
    for (int i = from + 15; i >= from; i--) {
      out[i] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    }
  }

  private static Optional<Offset> parseReference(String text) {
    if (text == null || text.length() != 33 || text.charAt(16) != '_') {
      return Optional.empty();
    }
    long position = 0;
    long index = 0;
    for (int i = 0; i < 16; i++) {
      char p = text.charAt(i);
      char x = text.charAt(17 + i);
      if (p < '0' || p > '9' || x < '0' || x > '9') {
        return Optional.empty();
      }
      position = position * 10 + (p - '0');
      index = index * 10 + (x - '0');
    }
    return Optional.of(new Offset(position, index));
  }
}
