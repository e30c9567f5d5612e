package io.tether.benchmarks.load;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Progress lines on standard error, so a long run shows where it is. */
public final class Log {
  private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("HH:mm:ss");

  private Log() {}

  public static void info(String message) {
    System.err.println("bench " + LocalTime.now().format(FORMAT) + " " + message);
  }
}
