package io.tether.benchmarks.load.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tether.benchmarks.load.result.RunReport;
import java.io.IOException;
import java.nio.file.Path;

/** Writes the run report as pretty-printed JSON: the results of record. */
public final class JsonReport {
  private JsonReport() {}

  public static void write(RunReport report, Path file) throws IOException {
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(file.toFile(), report);
  }
}
