package io.outreach.engine.outbound;

import io.outreach.engine.compliance.Channel;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.tenant.TenantEntity;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The tenants' provider throttles, where every provider call is permitted and reported back:
 * reached through each tenant's {@link TenantEntity} (kill switches and suspension hold its permits
 * there; {@link ProviderThrottle} children pace them per sender and account).
 */
public interface Throttles {

  /** Asks the tenant for up to {@code wanted} calls from {@code sender}. */
  CompletionStage<Permits> acquire(
      String tenantId,
      String provider,
      String sender,
      String campaignId,
      String agent,
      Channel channel,
      int wanted);

  /** A permitted call ended (with the provider's answer, a failure, or unused). */
  void ended(String tenantId, String provider, ProviderThrottle.Ended ended);

  /**
   * A voice call was placed ({@link ProviderThrottle.CallLive}) or is over ({@link
   * ProviderThrottle.CallOver}): the account's count of live calls follows.
   */
  default void voiceCall(String tenantId, String provider, ProviderThrottle.Command change) {}

  /** The throttles of the cluster's Tenant entities. */
  static Throttles of(ActorSystem<?> system, Duration askTimeout) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return new Throttles() {
      @Override
      public CompletionStage<Permits> acquire(
          String tenantId,
          String provider,
          String sender,
          String campaignId,
          String agent,
          Channel channel,
          int wanted) {
        return sharding
            .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
            .ask(
                r ->
                    new TenantEntity.AcquirePermits(
                        provider, sender, campaignId, agent, channel, wanted, r),
                askTimeout);
      }

      @Override
      public void ended(String tenantId, String provider, ProviderThrottle.Ended ended) {
        sharding
            .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
            .tell(new TenantEntity.CallEnded(provider, ended));
      }

      @Override
      public void voiceCall(String tenantId, String provider, ProviderThrottle.Command change) {
        sharding
            .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
            .tell(new TenantEntity.VoiceCall(provider, change));
      }
    };
  }
}
