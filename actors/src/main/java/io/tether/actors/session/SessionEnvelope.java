package io.tether.actors.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * The fields of a JSON session item that session semantics act on: the event envelope
 * {@code {type, run, step, producer, time, data}} of {@code docs/protocol.md}. The item's bytes
 * stay exactly as appended; this is only a read-only view of them, and items that are not
 * envelopes (any JSON that is not an object with a string {@code type}) have none.
 *
 * @param type the event type, e.g. {@code message.delta}
 * @param run the run id, or null
 * @param producer the producer (a device or agent id), or null
 * @param data the data object, never null (empty when absent)
 */
public record SessionEnvelope(String type, String run, String producer, JsonNode data) {

  /** The mapper of envelope bodies; thread-safe once configured. */
  public static final ObjectMapper JSON = new ObjectMapper();

  /** The producer name of events the session itself writes (presence, loss, cancellations). */
  public static final String SERVER_PRODUCER = "tether";

  /** A text field of {@code data}, or null. */
  public String dataText(String field) {
    JsonNode value = data.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  /** Whether the type is part of a message: {@code message} or {@code message.*}. */
  public static boolean isMessage(String type) {
    return type.equals("message") || type.startsWith("message.");
  }

  /**
   * The key of the message a {@code message}/{@code message.*} event belongs to:
   * {@code id:<data.id>}, or (events written before ids were required) run, producer and role.
   */
  public String messageKey() {
    String id = dataText("id");
    if (id != null) {
      return "id:" + id;
    }
    return run + "|" + producer + "|" + dataText("role");
  }

  /** Whether only the session itself may write this type (presence and control requests). */
  public boolean serverOnly() {
    return type.startsWith("presence.") || type.equals("control.cancel")
        || type.equals("control.steer") || type.equals("control.interrupt");
  }

  /** The envelope of an item, or empty when the item is not one. Never throws. */
  public static Optional<SessionEnvelope> of(byte[] item) {
    if (!looksLikeEnvelope(item)) {
      return Optional.empty();
    }
    try {
      return of(JSON.readTree(item));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The envelope of a parsed item, or empty when it is not one. */
  public static Optional<SessionEnvelope> of(JsonNode node) {
    if (node == null || !node.isObject() || !node.path("type").isTextual()) {
      return Optional.empty();
    }
    JsonNode data = node.get("data");
    return Optional.of(new SessionEnvelope(node.get("type").asText(), text(node, "run"),
        text(node, "producer"), data != null && data.isObject() ? data : JSON.createObjectNode()));
  }

  /** Mints an event the session writes itself, stamped with the current time. */
  public static byte[] mint(String type, String run, String producer, ObjectNode data) {
    ObjectNode e = JSON.createObjectNode();
    e.put("type", type);
    if (run != null) {
      e.put("run", run);
    }
    e.put("producer", producer);
    e.put("time", Instant.now().toString());
    e.set("data", data == null ? JSON.createObjectNode() : data);
    try {
      return JSON.writeValueAsBytes(e);
    } catch (IOException ex) {
      throw new IllegalStateException("an object node always serializes", ex);
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() ? value.asText() : null;
  }

  /** The types whose {@code data} the session's ledger reads. */
  private static final java.util.Set<String> LEDGER_DATA_TYPES = java.util.Set.of(
      "run.start", "run.end", "control.cancel", "control.steer", "control.interrupt",
      "presence.joined", "presence.left");
  // Message events are the most frequent (deltas): only their key is read, in the same pass.

  /**
   * The envelope as the session's ledger needs it: type, run and producer from one streaming
   * pass over the item, without building its tree; {@code data} is parsed only for the types
   * whose data the ledger reads; for messages it holds only {@code id} and {@code role} (their
   * key), and it is empty otherwise. Every JSON item of a session goes through
   * this on append and again when persisted, and nearly all are deltas. Never throws.
   */
  public static Optional<SessionEnvelope> forLedger(byte[] item) {
    return scan(item, false);
  }

  /**
   * The envelope as a message rollup needs it: {@link #forLedger} plus, for message events, the
   * {@code text} and {@code status} of their data, read in the same single pass (a replay at
   * message granularity folds every delta of a long session).
   */
  public static Optional<SessionEnvelope> forRollup(byte[] item) {
    return scan(item, true);
  }

  private static Optional<SessionEnvelope> scan(byte[] item, boolean messageText) {
    if (!looksLikeEnvelope(item)) {
      return Optional.empty();
    }
    String type = null;
    String run = null;
    String producer = null;
    String id = null;
    String role = null;
    String messageTextValue = null;
    String status = null;
    boolean typeTextual = false;
    try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(item)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return Optional.empty();
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String field = p.currentName();
        com.fasterxml.jackson.core.JsonToken value = p.nextToken();
        boolean text = value == com.fasterxml.jackson.core.JsonToken.VALUE_STRING;
        switch (field) {
          case "type" -> {
            typeTextual = text; // the last duplicate wins, as in a tree
            type = text ? p.getText() : null;
          }
          case "run" -> run = text ? p.getText() : null;
          case "producer" -> producer = text ? p.getText() : null;
          case "data" -> {
            // Only the message key (id, role) is read here; the full data of the types the
            // ledger needs is parsed below. Duplicates: the last wins, as in a tree.
            id = null;
            role = null;
            messageTextValue = null;
            status = null;
            if (value == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
              while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String inner = p.currentName();
                boolean innerText =
                    p.nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING;
                if (inner.equals("id")) {
                  id = innerText ? p.getText() : null;
                } else if (inner.equals("role")) {
                  role = innerText ? p.getText() : null;
                } else if (messageText && inner.equals("text")) {
                  messageTextValue = innerText ? p.getText() : null;
                } else if (messageText && inner.equals("status")) {
                  status = innerText ? p.getText() : null;
                }
                p.skipChildren();
              }
            } else {
              p.skipChildren();
            }
          }
          default -> p.skipChildren();
        }
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    if (!typeTextual) {
      return Optional.empty();
    }
    if (LEDGER_DATA_TYPES.contains(type)) {
      return of(item);
    }
    ObjectNode data = JSON.createObjectNode();
    if (isMessage(type)) {
      if (id != null) {
        data.put("id", id);
      }
      if (role != null) {
        data.put("role", role);
      }
      if (messageTextValue != null) {
        data.put("text", messageTextValue);
      }
      if (status != null) {
        data.put("status", status);
      }
    }
    return Optional.of(new SessionEnvelope(type, run, producer, data));
  }

  private static final byte[] DELTA_PREFIX =
      "{\"type\":\"message.delta\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * Whether the item is a {@code message.delta} envelope for certain, decided without parsing:
   * its first bytes are the member {@code "type":"message.delta"} right after the opening brace,
   * and no other {@code "type"} member can follow (those six bytes appear nowhere after it, and
   * no backslash-u escape could spell them). False means "parse it", not "it is no delta". A
   * long session is mostly deltas, and the ledger's fold ignores them ({@link
   * SessionLedger#foldSkips}), so its replay and its appends spare a parser per delta.
   */
  public static boolean isCertainlyDelta(byte[] item) {
    int n = DELTA_PREFIX.length;
    if (item.length <= n || !java.util.Arrays.equals(item, 0, n, DELTA_PREFIX, 0, n)) {
      return false;
    }
    for (int i = n; i < item.length - 1; i++) {
      byte b = item[i];
      if (b == '\\' && item[i + 1] == 'u') {
        return false;
      }
      if (b == '"' && i + 5 < item.length && item[i + 1] == 't' && item[i + 2] == 'y'
          && item[i + 3] == 'p' && item[i + 4] == 'e' && item[i + 5] == '"') {
        return false;
      }
    }
    return true;
  }

  /** Cheap pre-check so that large non-envelope payloads are never parsed. */
  private static boolean looksLikeEnvelope(byte[] item) {
    int i = 0;
    while (i < item.length && Character.isWhitespace(item[i])) {
      i++;
    }
    if (i >= item.length || item[i] != '{') {
      return false;
    }
    int window = Math.min(item.length, 4096);
    for (int j = i; j + 6 <= window; j++) {
      if (item[j] == '"' && item[j + 1] == 't' && item[j + 2] == 'y' && item[j + 3] == 'p'
          && item[j + 4] == 'e' && item[j + 5] == '"') {
        return true;
      }
    }
    return item.length > window;
  }
}
