package io.tether.actors.harness.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds session events in the envelope that {@code SessionEnvelope} (in the session package)
 * reads: {@code type}, {@code run}, {@code step}, {@code producer}, {@code time}, {@code data};
 * the session adds the {@code offset}. The types the harness writes and their data are listed in
 * this package's {@code package-info}.
 */
public final class SessionEvents {

  /** The mapper used for event bodies. */
  public static final ObjectMapper JSON = new ObjectMapper();

  private SessionEvents() {}

  /** A new, empty data object. */
  public static ObjectNode data() {
    return JSON.createObjectNode();
  }

  /** One event envelope. */
  public static ObjectNode event(String type, String runId, String step, String producer,
      JsonNode data) {
    ObjectNode e = JSON.createObjectNode();
    e.put("type", type);
    e.put("run", runId);
    e.put("step", step);
    e.put("producer", producer);
    e.put("time", Instant.now().toString());
    e.set("data", data == null ? data() : data);
    return e;
  }
}
