package io.outreach.http.sandbox;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The accounts the sandbox twins accept and sign with, and how much the sandbox keeps and pushes.
 * The twins know the public test accounts ({@link #TWILIO_TEST_SID}, {@link #SIGNALHOUSE_TEST_KEY},
 * {@link #APOLLO_TEST_KEY}) and whatever accounts are added: a request with credentials the twin
 * does not know is refused as the provider refuses it (401), and each callback is signed with the
 * secret of the account that sent the message. The test credentials protect nothing and must never
 * be used against a real provider.
 *
 * @param twilioAccounts Twilio account sid to auth token: basic-auth credentials of the Messages
 *     API and the key of {@code X-Twilio-Signature} on that account's callbacks
 * @param signalHouseKeys SignalHouse API key (the bearer token) to the webhook secret that signs
 *     {@code X-SignalHouse-Signature} on the callbacks of messages sent with that key
 * @param receiptConcurrency the most delivery receipts in flight to the engine at once (and so the
 *     most connections the receipts keep open per provider)
 * @param logLimit the most entries the request log keeps (and idempotency keys it remembers), the
 *     oldest dropped first
 * @param apolloKeys Apollo API keys ({@code x-api-key}) the twin accepts
 * @param apolloLimits the Apollo twin's calls per key in each fixed window (UTC minute, hour, day)
 */
public record SandboxSettings(
    Map<String, String> twilioAccounts,
    Map<String, String> signalHouseKeys,
    int receiptConcurrency,
    int logLimit,
    java.util.Set<String> apolloKeys,
    ApolloLimits apolloLimits) {

  /**
   * Calls one Apollo key may make per fixed window. The twin's defaults are generous (Apollo's Free
   * plan allows 50, 200 and 600), so tests are not slowed by them; set lower ones to model a plan.
   */
  public record ApolloLimits(int perMinute, int perHour, int perDay) {
    public static final ApolloLimits DEFAULTS = new ApolloLimits(600, 10_000, 100_000);

    public ApolloLimits {
      if (perMinute < 1 || perHour < 1 || perDay < 1) {
        throw new IllegalArgumentException("Apollo's limits must be at least 1 per window");
      }
    }
  }

  /** The sandbox Apollo API key. */
  public static final String APOLLO_TEST_KEY = "sandbox-apollo-api-key";

  /** The sandbox Twilio account's sid (as Twilio's: AC and 32 hex digits). */
  public static final String TWILIO_TEST_SID = "AC" + "0".repeat(32);

  /** The sandbox Twilio account's auth token. */
  public static final String TWILIO_TEST_TOKEN = "sandbox-twilio-auth-token";

  /** The sandbox SignalHouse API key. */
  public static final String SIGNALHOUSE_TEST_KEY = "sandbox-signalhouse-api-key";

  /** The webhook secret of the sandbox SignalHouse API key. */
  public static final String SIGNALHOUSE_TEST_SECRET = "sandbox-signalhouse-webhook-secret";

  /** The receipts in flight at once unless configured: enough for thousands per second. */
  public static final int DEFAULT_RECEIPT_CONCURRENCY = 64;

  /** The Anthropic twin's public test API key. */
  public static final String ANTHROPIC_TEST_KEY = "sandbox-anthropic-api-key";

  /**
   * The log entries kept unless configured: plenty to inspect a test run, and a bound a load run
   * cannot push the heap past.
   */
  public static final int DEFAULT_LOG_LIMIT = 100_000;

  // Before DEFAULTS: its constructor checks with it.
  private static final Pattern TWILIO_SID = Pattern.compile("AC[0-9a-fA-F]{32}");

  /** The sandbox-only defaults, shared by the standalone twin, the engine's test mode and tests. */
  public static final SandboxSettings DEFAULTS =
      new SandboxSettings(
          Map.of(TWILIO_TEST_SID, TWILIO_TEST_TOKEN),
          Map.of(SIGNALHOUSE_TEST_KEY, SIGNALHOUSE_TEST_SECRET),
          DEFAULT_RECEIPT_CONCURRENCY,
          DEFAULT_LOG_LIMIT,
          java.util.Set.of(APOLLO_TEST_KEY),
          ApolloLimits.DEFAULTS);

  public SandboxSettings {
    twilioAccounts = Map.copyOf(twilioAccounts);
    signalHouseKeys = Map.copyOf(signalHouseKeys);
    apolloKeys = java.util.Set.copyOf(apolloKeys);
    apolloKeys.forEach(key -> requireSecret("Apollo API key", key));
    java.util.Objects.requireNonNull(apolloLimits, "apolloLimits");
    twilioAccounts.forEach(
        (sid, token) -> {
          if (!TWILIO_SID.matcher(sid).matches()) {
            throw new IllegalArgumentException(
                "a Twilio account sid is AC followed by 32 hex digits, got '" + sid + "'");
          }
          requireSecret("Twilio auth token of " + sid, token);
        });
    signalHouseKeys.forEach(
        (key, secret) -> {
          requireSecret("SignalHouse API key", key);
          requireSecret("webhook secret of a SignalHouse API key", secret);
        });
    if (receiptConcurrency < 1 || receiptConcurrency > 4096) {
      throw new IllegalArgumentException("receipt concurrency must be between 1 and 4096");
    }
    if (logLimit < 1) {
      throw new IllegalArgumentException("the log limit must be at least 1");
    }
  }

  private static void requireSecret(String what, String value) {
    if (value == null || value.isBlank() || value.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(what + " must be a value without spaces");
    }
  }

  /** These settings with one more Twilio account the twin accepts (or a new token for it). */
  public SandboxSettings withTwilioAccount(String accountSid, String authToken) {
    Map<String, String> accounts = new LinkedHashMap<>(twilioAccounts);
    accounts.put(accountSid, authToken);
    return new SandboxSettings(
        accounts, signalHouseKeys, receiptConcurrency, logLimit, apolloKeys, apolloLimits);
  }

  /** These settings with one more SignalHouse API key the twin accepts, and its webhook secret. */
  public SandboxSettings withSignalHouseKey(String apiKey, String webhookSecret) {
    Map<String, String> keys = new LinkedHashMap<>(signalHouseKeys);
    keys.put(apiKey, webhookSecret);
    return new SandboxSettings(
        twilioAccounts, keys, receiptConcurrency, logLimit, apolloKeys, apolloLimits);
  }

  public SandboxSettings withReceiptConcurrency(int concurrency) {
    return new SandboxSettings(
        twilioAccounts, signalHouseKeys, concurrency, logLimit, apolloKeys, apolloLimits);
  }

  public SandboxSettings withLogLimit(int limit) {
    return new SandboxSettings(
        twilioAccounts, signalHouseKeys, receiptConcurrency, limit, apolloKeys, apolloLimits);
  }

  /** These settings with one more Apollo API key the twin accepts. */
  public SandboxSettings withApolloKey(String apiKey) {
    java.util.Set<String> keys = new java.util.HashSet<>(apolloKeys);
    keys.add(apiKey);
    return new SandboxSettings(
        twilioAccounts, signalHouseKeys, receiptConcurrency, logLimit, keys, apolloLimits);
  }

  /** These settings with the Apollo twin's windows limited to {@code limits}. */
  public SandboxSettings withApolloLimits(ApolloLimits limits) {
    return new SandboxSettings(
        twilioAccounts, signalHouseKeys, receiptConcurrency, logLimit, apolloKeys, limits);
  }
}
