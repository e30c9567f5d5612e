package io.tether.actors.harness.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds session events in the envelope of DESIGN.md section 3: {@code type}, {@code run},
 * {@code step}, {@code producer}, {@code time}, {@code data}; the session adds the
 * {@code offset}. Types the harness writes: {@code run.start}, {@code run.phase}, {@code run.end},
 * {@code message.start}, {@code message.delta}, {@code message.end}, {@code tool.call},
 * {@code tool.result}, {@code contract.state}, {@code evaluation.scores}, {@code budget.used},
 * {@code control.ack}, {@code run.interrupted}.
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
