package io.tether.benchmarks.load.measure;

/**
 * What a server process still holds after a full collection, in bytes, and how that was read
 * (for a JVM {@code jcmd GC.run} then {@code GC.heap_info}; for Node {@code gc()} then
 * {@code process.memoryUsage()}). RSS keeps memory the collector has not returned to the
 * system, so it is only an upper bound; the live heap is what the server really retains.
 */
public record LiveHeap(long bytes, String how) {}
