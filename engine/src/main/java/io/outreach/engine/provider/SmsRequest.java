package io.outreach.engine.provider;

/**
 * One SMS to send. {@code idempotencyKey} is passed to the provider so a retry after a lost answer
 * is not delivered twice; {@code statusCallbackUrl} is where the provider posts delivery receipts
 * (the engine's {@code /webhooks/{provider}/{tenantId}/...}).
 */
public record SmsRequest(
    String tenantId,
    String from,
    String to,
    String body,
    String idempotencyKey,
    String statusCallbackUrl) {}
