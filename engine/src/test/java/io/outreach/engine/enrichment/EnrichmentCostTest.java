package io.outreach.engine.enrichment;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.spend.Prices;
import java.math.BigDecimal;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** What enrichment costs by the price table, and when a job waits for a human. */
class EnrichmentCostTest {
  /** Apollo at 2 cents a credit. */
  private static final EnrichmentCost COST =
      new EnrichmentCost(new Prices(Map.of(), Map.of(), Map.of("apollo", 20_000L), Map.of()));

  @Test
  void theEstimateIsTheWorstCaseOfEachUncachedLead() {
    assertThat(COST.worstCasePerLead()).isEqualTo(180_000);
    assertThat(COST.estimate(500)).isEqualTo(90_000_000);
    assertThat(COST.estimate(0)).isZero();
  }

  @Test
  void creditsCostTheirPriceRoundedUpAndFractionalCreditsCount() {
    assertThat(COST.cost(new BigDecimal("3"))).isEqualTo(60_000);
    assertThat(COST.cost(new BigDecimal("0.5"))).isEqualTo(10_000);
    assertThat(COST.cost(new BigDecimal("0.00001"))).isEqualTo(1);
    assertThat(COST.cost(BigDecimal.ZERO)).isZero();
    assertThat(COST.cost(null)).isZero();
  }

  @Test
  void onlyAnEstimateAboveTheThresholdWaitsAndNoThresholdNeverDoes() {
    assertThat(EnrichmentCost.needsApproval(Prices.micros(100), 100L)).isFalse();
    assertThat(EnrichmentCost.needsApproval(Prices.micros(100) + 1, 100L)).isTrue();
    assertThat(EnrichmentCost.needsApproval(1, 0L)).isTrue();
    assertThat(EnrichmentCost.needsApproval(0, 0L)).as("a free job never waits").isFalse();
    assertThat(EnrichmentCost.needsApproval(Long.MAX_VALUE, null)).isFalse();
  }

  /** A call never carries more leads than what is left covers at their worst case. */
  @Property
  void aCallFitsWhatIsLeft(@ForAll @LongRange(min = -1_000_000, max = 10_000_000) long room) {
    int calls = COST.callsFor(room);
    assertThat(calls).isBetween(0, EnrichmentProvider.MAX_PER_CALL);
    assertThat((long) calls * COST.worstCasePerLead()).isLessThanOrEqualTo(Math.max(0, room));
    if (calls < EnrichmentProvider.MAX_PER_CALL) {
      assertThat((long) (calls + 1) * COST.worstCasePerLead()).isGreaterThan(room);
    }
  }

  /**
   * Spending each call's actual cost (at most its worst case) out of a grant never spends more than
   * the grant, whatever the calls find.
   */
  @Property
  void aJobNeverSpendsMoreThanItsGrant(
      @ForAll @LongRange(min = 0, max = 5_000_000) long grant,
      @ForAll @IntRange(min = 0, max = 9) int creditsPerLead) {
    long spent = 0;
    for (int step = 0; step < 1_000; step++) {
      int calls = COST.callsFor(grant - spent);
      if (calls == 0) {
        break;
      }
      spent += COST.cost(BigDecimal.valueOf((long) calls * creditsPerLead));
    }
    assertThat(spent).isLessThanOrEqualTo(grant);
  }
}
