/**
 * Cassandra for Tether's journal and snapshots: the {@code migrate} step that creates the schema
 * ({@link io.tether.persistence.cassandra.CassandraSchema}), and the launcher of the real
 * single-node Cassandra 5.0 that the dev run and the tests start as a separate JVM on loopback
 * ({@link io.tether.persistence.cassandra.LocalCassandra}, {@link
 * io.tether.persistence.cassandra.LocalCassandraMain} for scripts).
 *
 * <p>Decisions recorded here:
 *
 * <ul>
 *   <li>Cassandra runs in its own JVM, never in Tether's: an embedded Cassandra installs a
 *       JVM-wide SecurityManager, brings its own netty/guava/jackson versions, may call {@code
 *       System.exit}, and shares the heap and GC with the app. Its classpath is resolved by
 *       {@code persistence/cassandra-server} and never touches Tether's.
 *   <li>Cassandra runs on Java 17: 5.0 needs the SecurityManager that Java 24 removed.
 *   <li>One token ({@code num_tokens: 1}, {@code initial_token: 0}): token allocation on a lone
 *       node waits 30 s for schema agreement.
 *   <li>{@code commitlog_sync: group} (10 ms window): an acknowledged event is fsynced. See
 *       {@link io.tether.persistence.cassandra.LocalCassandra} for the reasoning and the measured cost.
 *   <li>Stop is SIGTERM: Cassandra's own shutdown hook drains (verified: a restart replays 0
 *       mutations), so no JMX and no nodetool are needed; JMX is off unless {@code jmx-port} is set.
 * </ul>
 */
package io.tether.persistence.cassandra;
