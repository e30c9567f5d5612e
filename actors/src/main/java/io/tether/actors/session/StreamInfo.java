package io.tether.actors.session;

/**
 * The metadata a client sees about a stream (HEAD and every response's headers).
 *
 * @param contentType the stream's content type as created
 * @param tail the offset after the last item
 * @param closed whether the stream has been closed
 * @param ttlSeconds the sliding time-to-live window, or null
 * @param expiresAt the absolute expiry as given at creation (RFC 3339), or null
 */
public record StreamInfo(String contentType, Offset tail, boolean closed, Long ttlSeconds,
    String expiresAt) {}
