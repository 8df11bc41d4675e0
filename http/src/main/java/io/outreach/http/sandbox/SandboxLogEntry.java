package io.outreach.http.sandbox;

import java.time.Instant;

/**
 * One message request a twin received. A {@code duplicate} repeats an earlier idempotency key:
 * it was answered with the earlier {@code messageId} and not delivered again.
 */
public record SandboxLogEntry(
    long id,
    String provider,
    String tenant,
    String to,
    String from,
    String body,
    String idempotencyKey,
    Instant at,
    boolean duplicate,
    String messageId) {}
