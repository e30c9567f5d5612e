/**
 * The HTTP front end of a node. Routes never talk to the journal directly: they ask sharded
 * entities through {@code EntityRef}s with timeouts from config and map the replies to wire
 * records. Errors are {@code application/problem+json} ({@link io.tether.http.Problem}).
 */
package io.tether.http;
