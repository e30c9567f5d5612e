package io.tether.actors.session;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Reads the session events of journals written before {@link SessionEvent} had its own file:
 * they were nested in {@link Session}, so their manifest is {@code ...session.Session$<Event>}.
 * Registered for each old name in the actors module's {@code reference.conf}
 * ({@code pekko.serialization.jackson.migrations}); the fields did not change, only the class
 * name. {@code SessionJournalCompatibilityTest} reads golden bytes of every old event through it.
 */
public final class SessionEventMigration extends JacksonMigration {
  private static final String OLD_PREFIX = Session.class.getName() + "$";
  private static final String NEW_PREFIX = SessionEvent.class.getName() + "$";

  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return className.startsWith(OLD_PREFIX)
        ? NEW_PREFIX + className.substring(OLD_PREFIX.length()) : className;
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
