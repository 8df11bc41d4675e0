package io.outreach.engine.enrichment;

import io.outreach.engine.spend.Prices;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * What enrichment costs by the price table: the worst case of a lead (Apollo: 1 credit for
 * email/demographics, +8 when a mobile number is returned, so 9), a job's estimate (the worst case
 * of each lead the cache does not hold and the provider can match), a call's actual cost (its
 * credits, rounded up to the micro-dollar), and whether an estimate needs a human's approval.
 */
public final class EnrichmentCost {
  /** Credits one person can cost at most: 1 for email and demographics, 8 more for a mobile. */
  public static final int WORST_CASE_CREDITS = 9;

  private final Prices prices;

  public EnrichmentCost(Prices prices) {
    this.prices = prices;
  }

  /** One lead's worst case, in micro-dollars. */
  public long worstCasePerLead() {
    return prices.enrichment(EnrichmentProvider.APOLLO, WORST_CASE_CREDITS);
  }

  /** A job's estimate: the worst case of each of its {@code uncached} matchable leads. */
  public long estimate(int uncached) {
    return Math.multiplyExact(worstCasePerLead(), (long) uncached);
  }

  /** What {@code credits} (possibly fractional) cost, rounded up to the micro-dollar. */
  public long cost(BigDecimal credits) {
    if (credits == null || credits.signum() <= 0) {
      return 0;
    }
    return BigDecimal.valueOf(prices.enrichment(EnrichmentProvider.APOLLO, 1))
        .multiply(credits)
        .setScale(0, RoundingMode.CEILING)
        .longValueExact();
  }

  /**
   * How many leads the next call may carry with {@code roomMicros} left of the job's reservation:
   * each at its worst case, at most {@link EnrichmentProvider#MAX_PER_CALL}.
   */
  public int callsFor(long roomMicros) {
    long worst = worstCasePerLead();
    if (worst == 0) {
      return EnrichmentProvider.MAX_PER_CALL;
    }
    return (int) Math.max(0, Math.min(EnrichmentProvider.MAX_PER_CALL, roomMicros / worst));
  }

  /**
   * Whether a job estimated at {@code estimateMicros} waits for a human: when it exceeds the
   * tenant's threshold for LUCI ({@code spendApprovalCents}); never when there is no threshold.
   */
  public static boolean needsApproval(long estimateMicros, Long thresholdCents) {
    return thresholdCents != null && estimateMicros > Prices.micros(thresholdCents);
  }
}
