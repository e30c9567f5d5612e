package io.tether.persistence;

/**
 * Marker for every message that crosses the network or is written to the journal.
 *
 * <p>It is bound to Pekko's {@code jackson-json} serializer in cluster-config's {@code tether-serialization.conf}; Java
 * serialization is switched off, so a message that is sent remotely or persisted without this
 * marker fails loudly instead of silently falling back to a fragile binary format.
 */
public interface TetherSerializable {}
