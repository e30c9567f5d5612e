/**
 * The wire side of the load generator: a Durable Streams HTTP client built on the JDK
 * {@code HttpClient}, live readers (SSE and long-poll) that keep thousands of subscriptions open
 * without a thread each, and the sinks that turn delivered payloads into latencies and rates.
 * Nothing here knows which server it talks to.
 */
package io.tether.benchmarks.load.client;
