package io.tether.examples.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** One JSON line on standard output per thing the agent does (as the TypeScript agent logs). */
final class Log {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Writes {@code {"event": event, key: value, ...}}; null values are left out. */
  synchronized void line(String event, Object... keysAndValues) {
    ObjectNode line = JSON.createObjectNode().put("event", event);
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      Object value = keysAndValues[i + 1];
      if (value != null) {
        line.put(String.valueOf(keysAndValues[i]), String.valueOf(value));
      }
    }
    System.out.println(line);
    System.out.flush();
  }
}
