package io.outreach.engine.outbound;

/**
 * Where providers post what becomes of a message or a call: the engine's public webhook URLs (their
 * routes are the HTTP layer's).
 */
public interface CallbackUrls {

  /**
   * The URL {@code provider} posts the status receipts of the message with this idempotency key to
   * (the key rides along, so a receipt finds its message at once).
   */
  String messageStatus(String tenantId, String provider, String idempotencyKey);

  /** The URL {@code provider} posts the progress of the call with this idempotency key to. */
  default String callStatus(String tenantId, String provider, String idempotencyKey) {
    return messageStatus(tenantId, provider, idempotencyKey);
  }

  /**
   * The URL {@code provider} posts the keys pressed or words spoken during the call with this
   * idempotency key to (its keypad or spoken opt-out); null when there is none.
   */
  default String callGather(String tenantId, String provider, String idempotencyKey) {
    return null;
  }
}
