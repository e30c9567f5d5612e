package io.tether.benchmarks;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/** Progress lines on standard error, so a long run shows where it is. */
public final class Log {
  private Log() {}

  public static void info(String message) {
    System.err.println("bench " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + message);
  }
}
