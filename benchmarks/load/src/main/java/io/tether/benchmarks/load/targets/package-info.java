/**
 * The servers under test and their lifecycles: the Durable Streams reference server started from
 * {@code benchmarks/load/peer/}, Tether started through the repository's launcher, or an already
 * running server given by URL. Each is started on a free loopback port and stopped by the run.
 */
package io.tether.benchmarks.load.targets;
