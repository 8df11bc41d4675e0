package io.outreach.http.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The provider accounts the twins know, checked as each provider checks its credentials, and which
 * account sends from which number. A provider delivers a person's reply to the account that owns
 * the number written to; the twins learn that from the numbers each account sends from, so a
 * scripted reply to a tenant that sends with its own account is signed with that account's secret.
 * A number no account has sent from belongs to the test account.
 */
final class SandboxAccounts {
  /** The sender numbers remembered, the oldest forgotten first. */
  private static final int MAX_NUMBERS = 100_000;

  /**
   * One account a twin knows.
   *
   * @param provider {@code twilio} or {@code signalhouse}
   * @param id the Twilio account sid, or the SignalHouse API key
   * @param signingSecret the key of the signature on the account's callbacks: the Twilio auth
   *     token, or the webhook secret of the SignalHouse API key
   */
  record Account(String provider, String id, String signingSecret) {
    @Override
    public String toString() {
      // Never the secret (nor a SignalHouse key, which is a credential): these reach logs.
      return provider + (provider.equals("twilio") ? " account " + id : " API key");
    }
  }

  private final Map<String, Account> twilio = new LinkedHashMap<>();
  private final Map<String, Account> signalHouse = new LinkedHashMap<>();
  private final Account twilioTest =
      new Account("twilio", SandboxSettings.TWILIO_TEST_SID, SandboxSettings.TWILIO_TEST_TOKEN);
  private final Account signalHouseTest =
      new Account(
          "signalhouse",
          SandboxSettings.SIGNALHOUSE_TEST_KEY,
          SandboxSettings.SIGNALHOUSE_TEST_SECRET);

  // Guarded by this.
  private final Map<String, Account> owners =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Account> eldest) {
          return size() > MAX_NUMBERS;
        }
      };

  SandboxAccounts(SandboxSettings settings) {
    settings
        .twilioAccounts()
        .forEach((sid, token) -> twilio.put(sid, new Account("twilio", sid, token)));
    settings
        .signalHouseKeys()
        .forEach((key, secret) -> signalHouse.put(key, new Account("signalhouse", key, secret)));
  }

  /** The Twilio account of these basic-auth credentials, if the twin knows it. */
  Optional<Account> twilio(String accountSid, String authToken) {
    Account a = twilio.get(accountSid);
    return a != null && same(a.signingSecret(), authToken) ? Optional.of(a) : Optional.empty();
  }

  /** The SignalHouse account of this API key, if the twin knows it. */
  Optional<Account> signalHouse(String apiKey) {
    return Optional.ofNullable(signalHouse.get(apiKey));
  }

  /** {@code account} sends from {@code number}: replies to that number are its. */
  synchronized void sendsFrom(Account account, String number) {
    owners.put(account.provider() + ":" + digits(number), account);
  }

  /** The account a reply to {@code number} at {@code provider} is delivered to. */
  synchronized Account owner(String provider, String number) {
    Account a = owners.get(provider + ":" + digits(number));
    if (a != null) {
      return a;
    }
    return provider.equals("twilio") ? twilioTest : signalHouseTest;
  }

  private static String digits(String number) {
    return number == null ? "" : number.replaceAll("\\D", "");
  }

  private static boolean same(String expected, String given) {
    return given != null
        && MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }
}
