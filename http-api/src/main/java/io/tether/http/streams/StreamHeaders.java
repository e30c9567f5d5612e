package io.tether.http.streams;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Durable Streams header and query-parameter names, and the strict syntax checks the
 * protocol prescribes for their values. Pure functions: no state, no I/O.
 */
final class StreamHeaders {
  static final String NEXT_OFFSET = "Stream-Next-Offset";
  static final String UP_TO_DATE = "Stream-Up-To-Date";
  static final String CURSOR = "Stream-Cursor";
  static final String CLOSED = "Stream-Closed";
  static final String TTL = "Stream-TTL";
  static final String EXPIRES_AT = "Stream-Expires-At";
  static final String SEQ = "Stream-Seq";
  static final String FORKED_FROM = "Stream-Forked-From";
  static final String FORK_OFFSET = "Stream-Fork-Offset";
  static final String FORK_SUB_OFFSET = "Stream-Fork-Sub-Offset";
  static final String SSE_ENCODING = "Stream-SSE-Data-Encoding";
  static final String PRODUCER_ID = "Producer-Id";
  static final String PRODUCER_EPOCH = "Producer-Epoch";
  static final String PRODUCER_SEQ = "Producer-Seq";
  static final String PRODUCER_EXPECTED_SEQ = "Producer-Expected-Seq";
  static final String PRODUCER_RECEIVED_SEQ = "Producer-Received-Seq";

  /** Response headers a browser client may read (CORS). */
  static final String EXPOSED = String.join(", ", NEXT_OFFSET, UP_TO_DATE, CURSOR, CLOSED, TTL,
      EXPIRES_AT, SSE_ENCODING, PRODUCER_EPOCH, PRODUCER_SEQ, PRODUCER_EXPECTED_SEQ,
      PRODUCER_RECEIVED_SEQ, "ETag", "Location", "Content-Type", "Retry-After");

  /** Request headers a browser client may send (CORS). */
  static final String ALLOWED = String.join(", ", "Content-Type", SEQ, CLOSED, TTL, EXPIRES_AT,
      FORKED_FROM, FORK_OFFSET, FORK_SUB_OFFSET, PRODUCER_ID, PRODUCER_EPOCH, PRODUCER_SEQ,
      "If-None-Match", "Authorization");

  private static final Pattern NON_NEGATIVE = Pattern.compile("0|[1-9][0-9]*");
  private static final long MAX_SAFE_INTEGER = 9007199254740991L;

  private StreamHeaders() {}

  /**
   * A non-negative decimal integer without sign, leading zeros, fraction or exponent, at most
   * 2^53-1; empty when the text is anything else.
   */
  static Optional<Long> nonNegativeInteger(String text) {
    if (text == null || text.length() > 16 || !NON_NEGATIVE.matcher(text).matches()) {
      return Optional.empty();
    }
    long value = Long.parseLong(text);
    return value <= MAX_SAFE_INTEGER ? Optional.of(value) : Optional.empty();
  }

  /** An RFC 3339 timestamp as epoch millis; empty when unparsable. */
  static Optional<Long> rfc3339(String text) {
    try {
      return Optional.of(OffsetDateTime.parse(text.trim()).toInstant().toEpochMilli());
    } catch (DateTimeParseException | NullPointerException e) {
      return Optional.empty();
    }
  }

  /** Whether a {@code Stream-Closed} value means "closed" (exactly "true", any case). */
  static boolean isTrue(Optional<String> value) {
    return value.map(v -> v.trim().equalsIgnoreCase("true")).orElse(false);
  }
}
