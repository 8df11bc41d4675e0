package io.outreach.engine.outbound;

import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.VoiceProvider;
import java.util.Optional;

/**
 * The provider adapters the one way out calls: the tenant's account at a provider, when one is
 * configured (implemented outside the engine, over HTTP).
 */
public interface ProviderAccounts {

  /** The SMS adapter for {@code tenantId}'s account at {@code provider}, if it has one. */
  Optional<SmsProvider> sms(String tenantId, String provider);

  /**
   * The voice adapter for {@code tenantId}'s account at {@code provider}, if it has one and the
   * provider places calls (Twilio does; SignalHouse is SMS only).
   */
  default Optional<VoiceProvider> voice(String tenantId, String provider) {
    return Optional.empty();
  }
}
