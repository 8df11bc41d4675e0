package io.outreach.engine.outbound;

/**
 * Where providers post what becomes of a message: the engine's public webhook URLs (their routes
 * are the HTTP layer's).
 */
public interface CallbackUrls {

  /**
   * The URL {@code provider} posts the status receipts of the message with this idempotency key to
   * (the key rides along, so a receipt finds its message at once).
   */
  String messageStatus(String tenantId, String provider, String idempotencyKey);
}
