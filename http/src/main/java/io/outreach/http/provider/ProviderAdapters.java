package io.outreach.http.provider;

import io.outreach.engine.outbound.ProviderAccounts;
import io.outreach.engine.provider.SmsProvider;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The provider adapters the engine sends through, by provider name: set once the node knows where
 * the providers are (the sandbox twins' URL is its own address when it serves them). Every tenant
 * shares them for now: one account per provider for the engine.
 */
public final class ProviderAdapters implements ProviderAccounts {
  private final AtomicReference<Map<String, SmsProvider>> sms = new AtomicReference<>(Map.of());

  /** Uses these SMS adapters from now on. */
  public void use(Map<String, SmsProvider> adapters) {
    sms.set(Map.copyOf(adapters));
  }

  @Override
  public Optional<SmsProvider> sms(String tenantId, String provider) {
    return Optional.ofNullable(sms.get().get(provider));
  }
}
