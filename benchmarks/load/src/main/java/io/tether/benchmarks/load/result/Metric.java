package io.tether.benchmarks.load.result;

/** One figure of a scenario: its value, its unit, and which direction is better. */
public record Metric(String name, double value, String unit, Better better) {
  /** Which direction is an improvement. */
  public enum Better { HIGHER, LOWER, NEITHER }
}
