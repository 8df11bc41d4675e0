package io.outreach.http.sandbox;

import com.fasterxml.jackson.annotation.JsonFormat;
import java.time.Instant;

/**
 * One message a twin handled: an {@code outbound} request the engine sent, or an {@code inbound}
 * reply the twin posted to the engine ({@code POST /sandbox/replies}). A {@code duplicate} repeats
 * an earlier idempotency key: it was answered with the earlier {@code messageId} and not delivered
 * again. {@code at} always carries milliseconds ({@code 2025-11-25T16:00:00.000Z}), so rates per
 * second can be computed from it.
 */
public record SandboxLogEntry(
    long id,
    String provider,
    String direction,
    String tenant,
    String to,
    String from,
    String body,
    String idempotencyKey,
    @JsonFormat(
            shape = JsonFormat.Shape.STRING,
            pattern = "uuuu-MM-dd'T'HH:mm:ss.SSSX",
            timezone = "UTC")
        Instant at,
    boolean duplicate,
    String messageId) {

  /** A message the engine asked a twin to send. */
  public static final String OUTBOUND = "outbound";

  /** A reply a twin posted to the engine's inbound webhook. */
  public static final String INBOUND = "inbound";
}
