package io.tether.benchmarks.result;

/** One figure of a scenario: its value, unit, and whether more is better (for the ratio's sense). */
public record Metric(String name, double value, String unit, Better better) {
  /** Which direction is an improvement. */
  public enum Better { HIGHER, LOWER, NEITHER }
}
