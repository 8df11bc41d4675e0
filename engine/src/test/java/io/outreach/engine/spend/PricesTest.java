package io.outreach.engine.spend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The price table reads reference.conf, costs in micro-dollars and shows cents rounded up. */
class PricesTest {
  private final Prices prices = Prices.from(ConfigFactory.load());

  @Test
  void listPricesInMicroDollars() {
    assertThat(prices.sms("twilio", 1)).isEqualTo(8_300);
    assertThat(prices.sms("signalhouse", 3)).isEqualTo(18_000);
    assertThat(prices.voiceMinute("twilio")).isEqualTo(14_000);
    // Apollo: 1 credit for email/demographics, 9 with a mobile number.
    assertThat(prices.enrichment("apollo", 9)).isEqualTo(180_000);
    // Haiku 4.5: $1 / $5 per million tokens; 1,200 in and 80 out is 1,600 micro-dollars.
    assertThat(prices.llm("claude-haiku-4-5", 1_200, 80)).isEqualTo(1_600);
    // A fraction of a micro-dollar is a whole one.
    assertThat(prices.llm("claude-haiku-5-5", 1, 1)).isEqualTo(1);
  }

  @Test
  void aModelCallsWorstCostCountsItsInstructionsATokenForEveryThreeCharactersAndEveryTokenOut() {
    // 400 tokens of instructions and 1,000 characters (334 tokens) in, 300 out, on Haiku 4.5.
    assertThat(prices.llmWorst("claude-haiku-4-5", 1_000, 300)).isEqualTo(734 + 1_500);
    assertThat(prices.llmWorst("claude-haiku-4-5", 0, 0)).isEqualTo(400);
  }

  @Test
  void centsAreRoundedUpSoNothingShownCostsLessThanItDid() {
    assertThat(Prices.cents(0)).isZero();
    assertThat(Prices.cents(1)).isEqualTo(1);
    assertThat(Prices.cents(996_000)).isEqualTo(100);
    assertThat(Prices.cents(979_400)).isEqualTo(98);
    assertThat(Prices.micros(100)).isEqualTo(1_000_000);
  }

  @Test
  void anUnpricedProviderOrModelIsRefusedNamingIt() {
    assertThatThrownBy(() -> prices.segment("vonage")).hasMessageContaining("vonage");
    assertThatThrownBy(() -> prices.llm("gpt-9", 1, 1)).hasMessageContaining("gpt-9");
  }

  @Test
  void budgetsArePeriodsOfTheTenantsCalendar() {
    // 03:00 UTC on 1 December is still 30 November in New York.
    Instant now = Instant.parse("2026-12-01T03:00:00Z");
    Budgets b = new Budgets(100, 20L, 5L, "America/New_York");
    assertThat(b.forCampaign("cmp_1", now))
        .containsExactly(
            new SpendLedger.Budget("tenant-month:2026-11", 1_000_000),
            new SpendLedger.Budget("tenant-day:2026-11-30", 200_000),
            new SpendLedger.Budget("campaign:cmp_1", 50_000));
    assertThat(new Budgets(100, null, null, "America/New_York").forAgent("luci", 7L, now))
        .containsExactly(
            new SpendLedger.Budget("tenant-month:2026-11", 1_000_000),
            new SpendLedger.Budget("agent-day:luci:2026-11-30", 70_000));
    assertThat(Budgets.rule("agent-day:luci:2026-11-30")).isEqualTo("budget:agent-day");
  }
}
