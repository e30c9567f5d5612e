/**
 * Test fixtures shared with other modules through tether-persistence's test-jar (only this
 * package is packaged into it): {@link io.tether.persistence.testkit.TestCassandra}, one real
 * Cassandra per test JVM with a fresh keyspace per test.
 */
package io.tether.persistence.testkit;
