package io.tether.http.streams;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * JSON mode (protocol section 9.1): validates a request body and splits it into messages. A
 * top-level array is flattened exactly one level; any other value is one message. Each message
 * is stored re-serialized compactly (so it never contains a raw line break), with numbers kept
 * exact.
 */
final class JsonMessages {
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private JsonMessages() {}

  /**
   * The messages of {@code body}, or empty when it is not exactly one JSON value; with the
   * first refusal of {@code check} (applied to each message) instead when there is one.
   */
  static Optional<List<byte[]>> split(byte[] body,
      java.util.function.Function<JsonNode, String> check,
      java.util.function.Consumer<String> refused) {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (root == null || root.isMissingNode()) {
      return Optional.empty();
    }
    int i = 0;
    for (JsonNode element : root.isArray() ? root : List.of(root)) {
      String refusal = check.apply(element);
      if (refusal != null) {
        refused.accept((root.isArray() ? "[" + i + "]: " : "") + refusal);
        return Optional.of(List.of());
      }
      i++;
    }
    return split(root);
  }

  /** The messages of {@code body}, or empty when it is not exactly one JSON value. */
  static Optional<List<byte[]>> split(byte[] body) {
    return split(body, item -> null, refusal -> { });
  }

  private static Optional<List<byte[]>> split(JsonNode root) {
    try {
      List<byte[]> messages = new ArrayList<>();
      if (root.isArray()) {
        for (JsonNode element : root) {
          messages.add(MAPPER.writeValueAsBytes(element));
        }
      } else {
        messages.add(MAPPER.writeValueAsBytes(root));
      }
      return Optional.of(messages);
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

  /** The messages as one JSON array, the body of a JSON-mode read. */
  static byte[] asArray(List<byte[]> messages) {
    int size = 2 + Math.max(0, messages.size() - 1);
    for (byte[] message : messages) {
      size += message.length;
    }
    byte[] out = new byte[size];
    int at = 0;
    out[at++] = '[';
    for (int i = 0; i < messages.size(); i++) {
      if (i > 0) {
        out[at++] = ',';
      }
      byte[] message = messages.get(i);
      System.arraycopy(message, 0, out, at, message.length);
      at += message.length;
    }
    out[at] = ']';
    return out;
  }

  /** The items of a byte stream concatenated. */
  static byte[] concat(List<byte[]> items) {
    int size = 0;
    for (byte[] item : items) {
      size += item.length;
    }
    byte[] out = new byte[size];
    int at = 0;
    for (byte[] item : items) {
      System.arraycopy(item, 0, out, at, item.length);
      at += item.length;
    }
    return out;
  }
}
