package io.outreach.http.sandbox;

/**
 * The credentials the sandbox twins accept and sign with. They are fixed, public test values:
 * they protect nothing and must never be used against a real provider.
 *
 * @param twilioAccountSid the account sid the Twilio twin accepts (basic auth user and path)
 * @param twilioAuthToken the Twilio twin's auth token (basic auth password and the key of
 *     {@code X-Twilio-Signature} on its callbacks)
 * @param signalHouseApiKey the bearer token the SignalHouse twin accepts
 * @param signalHouseWebhookSecret the key of {@code X-SignalHouse-Signature} on its callbacks
 */
public record SandboxSettings(
    String twilioAccountSid,
    String twilioAuthToken,
    String signalHouseApiKey,
    String signalHouseWebhookSecret) {

  /** The sandbox-only defaults, shared by the standalone twin, the engine's test mode and tests. */
  public static final SandboxSettings DEFAULTS =
      new SandboxSettings(
          "AC" + "0".repeat(32),
          "sandbox-twilio-auth-token",
          "sandbox-signalhouse-api-key",
          "sandbox-signalhouse-webhook-secret");
}
