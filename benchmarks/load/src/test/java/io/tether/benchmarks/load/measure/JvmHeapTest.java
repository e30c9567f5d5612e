package io.tether.benchmarks.load.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class JvmHeapTest {
  @Test
  void readsTheBiggestClassesOfAJcmdHistogram() {
    String histogram = """
        12345:
         num     #instances         #bytes  class name (module)
        -------------------------------------------------------
           1:        120000       52428800  [B (java.base@17.0.15)
           2:         40000        1920000  org.apache.pekko.stream.impl.fusing.GraphInterpreter
           3:            10            480  java.lang.String (java.base@17.0.15)
        Total        160010       54349280
        """;

    assertEquals(List.of("[B 52.4 MB (120,000 instances)",
            "org.apache.pekko.stream.impl.fusing.GraphInterpreter 1.9 MB (40,000 instances)"),
        JvmHeap.top(histogram, 2));
  }
}
