package io.outreach.http.provider;

import io.outreach.engine.outbound.ProviderAccounts;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.VoiceProvider;
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
  private final Map<String, VoiceProvider> voiceAdapters = new ConcurrentHashMap<>();
  private final VoiceCalls voiceCalls;

  /**
   * @param baseUrls each provider's base URL (the real service, or its twin)
   */
  public TenantProviders(
      TenantAccounts accounts, ProviderHttp http, Function<String, URI> baseUrls) {
    this(accounts, http, baseUrls, VoiceCalls.DEFAULTS);
  }

  /**
   * @param voiceCalls how calls are placed (ring time, length, machine detection, opt-out key)
   */
  public TenantProviders(
      TenantAccounts accounts,
      ProviderHttp http,
      Function<String, URI> baseUrls,
      VoiceCalls voiceCalls) {
    this.accounts = accounts;
    this.http = http;
    this.baseUrls = baseUrls;
    this.voiceCalls = voiceCalls;
  }

  /** Calls go through Twilio's Calls API (SignalHouse places none). */
  @Override
  public Optional<VoiceProvider> voice(String tenantId, String provider) {
    if (!provider.equals("twilio")) {
      return Optional.empty();
    }
    return accounts
        .effective(tenantId, provider)
        .map(
            fields ->
                voiceAdapters.computeIfAbsent(
                    provider + fields,
                    k ->
                        new TwilioVoiceAdapter(
                            http,
                            baseUrls.apply(provider),
                            fields.get("accountSid"),
                            fields.get("authToken"),
                            voiceCalls)));
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
