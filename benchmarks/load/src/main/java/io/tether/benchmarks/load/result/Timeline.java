package io.tether.benchmarks.load.result;

/** A rate sampled once a second from the start of a scenario's load (for the throughput plots). */
public record Timeline(String name, String unit, double[] perSecond) {}
