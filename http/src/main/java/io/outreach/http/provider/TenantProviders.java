package io.outreach.http.provider;

import io.outreach.engine.outbound.ProviderAccounts;
import io.outreach.engine.provider.SmsProvider;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The provider adapters each tenant sends through: its own account's (or, in sandbox mode, the
 * twins' test account), at the provider's base URL. Adapters are kept per account, so a changed
 * account gets a new one.
 */
public final class TenantProviders implements ProviderAccounts {
  private final TenantAccounts accounts;
  private final ProviderHttp http;
  private final Function<String, URI> baseUrls;
  private final Map<String, SmsProvider> adapters = new ConcurrentHashMap<>();

  /**
   * @param baseUrls each provider's base URL (the real service, or its twin)
   */
  public TenantProviders(
      TenantAccounts accounts, ProviderHttp http, Function<String, URI> baseUrls) {
    this.accounts = accounts;
    this.http = http;
    this.baseUrls = baseUrls;
  }

  @Override
  public Optional<SmsProvider> sms(String tenantId, String provider) {
    return accounts
        .effective(tenantId, provider)
        .flatMap(
            fields ->
                switch (provider) {
                  case "twilio" ->
                      Optional.of(
                          adapters.computeIfAbsent(
                              provider + fields,
                              k ->
                                  new TwilioSmsAdapter(
                                      http,
                                      baseUrls.apply(provider),
                                      fields.get("accountSid"),
                                      fields.get("authToken"))));
                  case "signalhouse" ->
                      Optional.of(
                          adapters.computeIfAbsent(
                              provider + fields,
                              k ->
                                  new SignalHouseSmsAdapter(
                                      http, baseUrls.apply(provider), fields.get("apiKey"))));
                  default -> Optional.empty();
                });
  }
}
