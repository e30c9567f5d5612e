/**
 * What a run produces, as plain records that serialize to the results JSON: metrics with units
 * and direction, latency summaries, per-second timelines, one result per scenario and target,
 * and the run report that holds them with the machine they came from.
 */
package io.tether.benchmarks.load.result;
