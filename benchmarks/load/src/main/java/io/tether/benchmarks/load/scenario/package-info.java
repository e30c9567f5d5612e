/**
 * The scenarios of issue 8, each a bounded, self-stopping run against one target that returns
 * its figures with the exact parameters it used. Parameters come in a full and a quick scale.
 */
package io.tether.benchmarks.load.scenario;
