package io.outreach.engine.outbound;

import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.spend.CallMinutes;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a call's final status settles, on the one way out: its cost, the started minutes the
 * provider billed ({@code Duration}) at the price table's minute, committed once (key {@code
 * call:campaign:recipient:step}, also at 0) against the reservation of the block that placed it,
 * which gives back what was held for it beyond that; and its place among the account's live calls,
 * given back. A repeated final status commits nothing more.
 */
public final class CallOutcomes {
  private static final Logger log = LoggerFactory.getLogger(CallOutcomes.class);

  private final OneWayOut out;
  private final SpendLedger spend;
  private final Prices prices;
  private final Executor blocking;

  public CallOutcomes(OneWayOut out, SpendLedger spend, Prices prices, Executor blocking) {
    this.out = out;
    this.spend = spend;
    this.prices = prices;
    this.blocking = blocking;
  }

  /** The cost of {@code minutes} started minutes through {@code provider}, in micro-dollars. */
  public long cost(String provider, long minutes) {
    return Math.multiplyExact(prices.voiceMinute(provider), minutes);
  }

  /**
   * Campaign {@code campaignId}'s call to recipient {@code recipient} at step {@code step} is over
   * after {@code billedMinutes}: completes once its cost (0 for none) is in the ledger, which gives
   * back what its block still held for it.
   */
  public CompletionStage<Void> ended(
      String tenantId,
      String provider,
      String campaignId,
      long recipient,
      int step,
      long billedMinutes) {
    out.callOver(tenantId, provider, campaignId + ":" + recipient + ":" + step);
    String key = CallMinutes.chargeKey(campaignId, recipient, step);
    String reservation =
        BlockSpec.entityId(tenantId, campaignId, (int) (recipient / CampaignEntity.BLOCK_SIZE));
    long micros = cost(provider, billedMinutes);
    return CompletableFuture.runAsync(
        () -> {
          try {
            spend.commit(tenantId, reservation, List.of(new SpendLedger.Charge(key, micros)));
          } catch (IllegalStateException e) {
            // A block started before spend control has no reservation: nothing to charge it to.
            log.warn("call {} of tenant {} not charged: {}", key, tenantId, e.getMessage());
          }
        },
        blocking);
  }
}
