package io.outreach.http;

import io.outreach.config.Settings;
import io.outreach.http.provider.TenantAccounts;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node reaches its providers: each one's base URL (configured, else the real service in
 * production or its sandbox twin), and the tenants' accounts checked at start (re-sealed after a
 * key rotation; in production the twins' public test credentials refuse the start).
 */
final class ProviderSetup {
  private static final Logger log = LoggerFactory.getLogger(ProviderSetup.class);

  /** The real services' APIs, where production mode sends unless a base URL is configured. */
  static final Map<String, String> PROVIDER_APIS =
      Map.of(
          "twilio", "https://api.twilio.com",
          "signalhouse", "https://v2.signalhouse.io",
          "apollo", "https://api.apollo.io/api/v1",
          "anthropic", "https://api.anthropic.com");

  /**
   * Each twin's base under {@code /sandbox/<provider>}: the path the real API's base has (Apollo's
   * is {@code /api/v1}), so a twin's paths are the real ones.
   */
  static final Map<String, String> TWIN_PATHS = Map.of("apollo", "/api/v1");

  private ProviderSetup() {}

  /**
   * Sets each provider's base URL in {@code urls}: the configured one, else the real service
   * (production) or its sandbox twin (served on this node, at {@code boundUrl}, or standalone).
   */
  static void connect(
      Settings settings,
      boolean sandboxProviders,
      AtomicReference<String> boundUrl,
      Map<String, URI> urls) {
    Settings.ProviderUrls given = settings.providerUrls();
    Map<String, Optional<String>> configured =
        Map.of(
            "twilio", given.twilio(),
            "signalhouse", given.signalHouse(),
            "apollo", given.apollo(),
            "anthropic", given.anthropic());
    String sandbox = settings.sandboxUrl().orElseGet(boundUrl::get) + "/sandbox/";
    PROVIDER_APIS.forEach(
        (provider, real) ->
            urls.put(
                provider,
                URI.create(
                    configured
                        .get(provider)
                        .orElse(
                            sandboxProviders
                                ? sandbox + provider + TWIN_PATHS.getOrDefault(provider, "")
                                : real))));
  }

  /**
   * Provider accounts at start: re-sealed under the current key when a rotation left some under a
   * previous one; in production, the twins' public test credentials refuse the start.
   */
  static void checkAccounts(Settings settings, Storage storage) {
    if (!settings.secrets().previousKeys().isEmpty()) {
      log.info(
          "re-sealed {} provider accounts under the current secrets key",
          storage.accounts().resealAll());
    }
    if (settings.mode() != Settings.Mode.PRODUCTION) {
      return;
    }
    storage
        .accounts()
        .all()
        .forEach(
            (tenant, accounts) ->
                accounts.forEach(
                    a -> {
                      if (TenantAccounts.sandboxCredentials(a.provider(), a.fields())) {
                        throw new IllegalStateException(
                            "tenant "
                                + tenant
                                + " has the sandbox twins' test credentials as its "
                                + a.provider()
                                + " account; production refuses to start (replace them with PUT"
                                + " /v1/tenant/providers/"
                                + a.provider()
                                + " in sandbox mode first)");
                      }
                    }));
  }
}
