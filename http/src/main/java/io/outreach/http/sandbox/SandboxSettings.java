package io.outreach.http.sandbox;

/**
 * The credentials the sandbox twins accept and sign with, and how hard they may push on the engine.
 * The credentials are fixed, public test values: they protect nothing and must never be used
 * against a real provider.
 *
 * @param twilioAccountSid the account sid the Twilio twin accepts (basic auth user and path)
 * @param twilioAuthToken the Twilio twin's auth token (basic auth password and the key of {@code
 *     X-Twilio-Signature} on its callbacks)
 * @param signalHouseApiKey the bearer token the SignalHouse twin accepts
 * @param signalHouseWebhookSecret the key of {@code X-SignalHouse-Signature} on its callbacks
 * @param receiptConcurrency the most delivery receipts in flight to the engine at once (and so the
 *     most connections the receipts keep open per provider)
 */
public record SandboxSettings(
    String twilioAccountSid,
    String twilioAuthToken,
    String signalHouseApiKey,
    String signalHouseWebhookSecret,
    int receiptConcurrency) {

  /** The receipts in flight at once unless configured: enough for thousands per second. */
  public static final int DEFAULT_RECEIPT_CONCURRENCY = 64;

  /** The sandbox-only defaults, shared by the standalone twin, the engine's test mode and tests. */
  public static final SandboxSettings DEFAULTS =
      new SandboxSettings(
          "AC" + "0".repeat(32),
          "sandbox-twilio-auth-token",
          "sandbox-signalhouse-api-key",
          "sandbox-signalhouse-webhook-secret",
          DEFAULT_RECEIPT_CONCURRENCY);

  public SandboxSettings {
    if (receiptConcurrency < 1 || receiptConcurrency > 4096) {
      throw new IllegalArgumentException("receipt concurrency must be between 1 and 4096");
    }
  }

  public SandboxSettings withReceiptConcurrency(int concurrency) {
    return new SandboxSettings(
        twilioAccountSid,
        twilioAuthToken,
        signalHouseApiKey,
        signalHouseWebhookSecret,
        concurrency);
  }
}
