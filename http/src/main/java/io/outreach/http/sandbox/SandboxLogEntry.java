package io.outreach.http.sandbox;

import com.fasterxml.jackson.annotation.JsonFormat;
import java.time.Instant;

/**
 * One message a twin handled: an {@code outbound} request the engine sent (one entry per
 * recipient), or an {@code inbound} reply the twin posted to the engine ({@code POST
 * /sandbox/replies}). A {@code duplicate} repeats an earlier idempotency key: it was answered with
 * the earlier {@code messageId} and not delivered again. A {@code blocked} message was taken and
 * not sent, as the provider blocks it ({@code DNC}: on its do-not-contact list; {@code OUT}: the
 * person opted out): null for a message sent. Numbers are as the request gave them (SignalHouse's
 * in E.164 here, for one format across providers). {@code at} always carries milliseconds ({@code
 * 2025-11-25T16:00:00.000Z}), so rates per second can be computed from it.
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
    String messageId,
    String blocked) {

  /** A message the engine asked a twin to send. */
  public static final String OUTBOUND = "outbound";

  /** A reply a twin posted to the engine's inbound webhook. */
  public static final String INBOUND = "inbound";
}
