package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.dnc.DncRegistry.Listing;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A block's plan, decided without actors: every recipient's first message, then follow-ups. */
class BlockPlanTest {
  private static final Instant T0 = Instant.parse("2026-11-25T15:00:00Z");
  private static final BlockSpec SPEC =
      new BlockSpec(
          "acme",
          "cmp_1",
          0,
          Channel.SMS,
          "twilio",
          List.of("+15550100001"),
          "Hi {{first_name}}",
          List.of(new CampaignDefinition.FollowUpStep(48, "Still keen, {{first_name}}?")),
          null,
          List.of());
  private static final GateFacts NO_FACTS = new GateFacts(List.of(), false, Map.of(), Set.of());

  private static Recipient r(long no, String phone, String firstName) {
    return new Recipient(
        no,
        "lead-" + no,
        phone,
        List.of("America/New_York"),
        "NY",
        firstName == null ? Map.of() : Map.of("first_name", firstName));
  }

  @Test
  void everyRecipientIsBlockedNamingItsRuleOrBecomesOneSendWithItsKeyAndSender() {
    List<Recipient> recipients =
        List.of(
            r(0, "+12125550100", "Ann"),
            r(1, "+12125550101", "Bob"),
            r(2, "+12125550102", "Cy"),
            r(3, null, "Di"),
            r(4, "+12125550104", null),
            r(5, "+12125550105", "Ed"));
    GateFacts facts =
        new GateFacts(
            List.of(), false, Map.of("+12125550101", Listing.TENANT), Set.of("+12125550102"));

    BlockEntity.Planned plan =
        BlockPlan.plan(SPEC, recipients, facts, Set.of("+12125550105", "+19999999999"));

    assertThat(plan.blocked())
        .containsExactly(
            new BlockedRecipient(1, BlockReason.DNC, "dnc:tenant"),
            new BlockedRecipient(2, BlockReason.OPT_OUT, "opt-out"),
            new BlockedRecipient(3, BlockReason.INVALID, "invalid:no-phone"),
            new BlockedRecipient(4, BlockReason.INVALID, "invalid:missing-field:first_name"));
    assertThat(plan.sends())
        .containsExactly(
            new Send(
                0,
                0,
                "+12125550100",
                "+15550100001",
                "Hi Ann\nReply STOP to opt out",
                "cmp_1:0:0",
                List.of("America/New_York"),
                "NY"),
            new Send(
                5,
                0,
                "+12125550105",
                "+15550100001",
                "Hi Ed",
                "cmp_1:5:0",
                List.of("America/New_York"),
                "NY"));
  }

  @Test
  void killSwitchesAndSuspensionAreLeftToTheThrottle() {
    KillSwitch campaignStop =
        new KillSwitch("kst_1", KillSwitch.Scope.CAMPAIGN, "cmp_1", "ops", T0);
    GateFacts held = new GateFacts(List.of(campaignStop), true, Map.of(), Set.of());

    BlockEntity.Planned plan =
        BlockPlan.plan(SPEC, List.of(r(0, "+12125550100", "Ann")), held, Set.of());

    assertThat(plan.blocked()).isEmpty();
    assertThat(plan.sends()).extracting(Send::idempotencyKey).containsExactly("cmp_1:0:0");
  }

  @Test
  void aNumberKeepsItsSenderWhateverElseIsInTheBlock() {
    List<String> senders = List.of("+15550100001", "+15550100002", "+15550100003");
    BlockSpec spec =
        new BlockSpec(
            "acme", "cmp_1", 0, Channel.SMS, "twilio", senders, "Hi", List.of(), null, List.of());
    List<Recipient> many = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      many.add(r(i, "+1212555" + String.format("%04d", 1000 + i), "R" + i));
    }
    Map<String, String> senderOf = new HashMap<>();
    BlockPlan.plan(spec, many, NO_FACTS, Set.of())
        .sends()
        .forEach(x -> senderOf.put(x.to(), x.from()));
    List<Recipient> fewReversed = List.of(many.get(59), many.get(17), many.get(3));

    List<Send> again = BlockPlan.plan(spec, fewReversed, NO_FACTS, Set.of()).sends();

    assertThat(again).allSatisfy(x -> assertThat(x.from()).isEqualTo(senderOf.get(x.to())));
    assertThat(senderOf.values()).as("numbers spread over the senders").hasSameElementsAs(senders);
  }

  @Test
  void followUpsRenderTheirStepWithoutDisclosureAndAMissingFieldBlocksOnlyThatOne() {
    Send annDue = new Send(0, 1, "+12125550100", "+15550100001", null, "cmp_1:0:1", null, "NY");
    Send bobDue = new Send(1, 1, "+12125550101", "+15550100001", null, "cmp_1:1:1", null, "NY");
    Send goneDue = new Send(7, 1, "+12125550107", "+15550100001", null, "cmp_1:7:1", null, "NY");
    Map<Long, Recipient> loaded =
        Map.of(0L, r(0, "+12125550100", "Ann"), 1L, r(1, "+12125550101", null));

    BlockPlan.FollowUps f = BlockPlan.followUps(SPEC, List.of(annDue, bobDue, goneDue), loaded, T0);

    assertThat(f.sends()).containsExactly(annDue.withBody("Still keen, Ann?"));
    assertThat(f.blocked())
        .containsExactly(
            new SendOutcome(
                1,
                1,
                SendOutcome.Kind.BLOCKED,
                null,
                "invalid:missing-field:first_name",
                BlockReason.INVALID,
                null,
                T0,
                null),
            new SendOutcome(
                7,
                1,
                SendOutcome.Kind.BLOCKED,
                null,
                "invalid:missing-field:recipient",
                BlockReason.INVALID,
                null,
                T0,
                null));
    assertThat(f.events())
        .containsExactly(
            new BlockEntity.StepPlanned(f.sends()), new BlockEntity.Outcomes(f.blocked()));
  }

  @Test
  void followUpsThatAllRenderAreJournaledAsOneIntentEvent() {
    Send annDue = new Send(0, 1, "+12125550100", "+15550100001", null, "cmp_1:0:1", null, "NY");

    BlockPlan.FollowUps f =
        BlockPlan.followUps(SPEC, List.of(annDue), Map.of(0L, r(0, "+1", "Ann")), T0);

    assertThat(f.events()).containsExactly(new BlockEntity.StepPlanned(f.sends()));
  }
}
