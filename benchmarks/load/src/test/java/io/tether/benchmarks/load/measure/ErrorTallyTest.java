package io.tether.benchmarks.load.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tether.benchmarks.load.client.StreamClient.Written;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class ErrorTallyTest {
  @Test
  void saysWhatTheErrorsWereMostFrequentFirst() {
    ErrorTally tally = new ErrorTally();
    Written notFound = new Written(404, null, "Stream not found\n");
    tally.answered(notFound.failure());
    tally.answered(notFound.failure());
    tally.failure(new CompletionException(new IOException("connection reset")));

    assertEquals(3, tally.total());
    assertEquals(2, tally.count("HTTP 404 Stream not found"));
    assertEquals("2 x HTTP 404 Stream not found; 1 x java.io.IOException: connection reset",
        tally.describe());
  }

  @Test
  void aFailureWithoutABodyIsItsStatus() {
    assertEquals("HTTP 503", new Written(503, null, "").failure());
    assertEquals("HTTP 413 " + "x".repeat(120) + "...",
        new Written(413, null, "x".repeat(200)).failure());
  }
}
