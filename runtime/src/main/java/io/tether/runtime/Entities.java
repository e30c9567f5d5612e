package io.tether.runtime;

import io.tether.actors.harness.Harness;
import io.tether.actors.session.SessionStreams;
import io.tether.actors.session.stream.SessionEntity;
import io.tether.actors.session.SessionDirectory;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Initialises cluster sharding for every entity type a node hosts; the harness writes into
 * sessions through the node's one {@code streams}.
 */
final class Entities {
  private Entities() {}

  static void init(ActorSystem<?> system, SessionStreams streams) {
    SessionEntity.init(system);
    SessionDirectory.init(system);
    Harness.init(system, streams);
  }
}
