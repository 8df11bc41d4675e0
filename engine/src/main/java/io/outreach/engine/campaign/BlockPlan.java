package io.outreach.engine.campaign;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.message.MessageTemplate;
import io.outreach.engine.message.OptOutDisclosure;
import io.outreach.engine.message.Rendered;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a block decides before it sends, as pure functions of what it loaded. Each recipient's first
 * message goes through the plan-time {@link ComplianceGate} (do-not-contact, opt-outs, a missing
 * number), its template is rendered (a missing field blocks it as {@code
 * invalid:missing-field:<names>}), a number the tenant has not contacted before gets the opt-out
 * disclosure, and every send gets its sticky sender and its idempotency key {@code
 * campaignId:recipient:step}. Follow-ups are rendered the same way when they fall due.
 *
 * <p>Kill switches and suspension do not block here: the throttle holds them before every call and
 * the work resumes once they are released. Legal hours and frequency caps are decided at the moment
 * of sending, on the person's current facts.
 */
final class BlockPlan {
  private static final ComplianceGate GATE = new ComplianceGate();

  private BlockPlan() {}

  /** Loads what a block plans on: its recipients, their gate facts, who was written to before. */
  static java.util.concurrent.CompletionStage<BlockEntity.Loaded> load(
      BlockPorts ports, BlockSpec spec) {
    return ports
        .recipients(spec)
        .thenCompose(
            list -> {
              List<String> phones =
                  list.stream().map(Recipient::phone).filter(java.util.Objects::nonNull).toList();
              var facts = ports.gateFacts(spec, phones).toCompletableFuture();
              var contacted = ports.contactedBefore(spec, phones).toCompletableFuture();
              return facts.thenCombine(
                  contacted, (f, before) -> new BlockEntity.Loaded(list, f, before));
            });
  }

  /**
   * Every recipient's first message decided: blocked (naming the rule) or a send to journal before
   * any provider call.
   */
  static BlockEntity.Planned plan(
      BlockSpec spec, List<Recipient> recipients, GateFacts facts, Set<String> contactedBefore) {
    MessageTemplate template = MessageTemplate.parse(spec.message());
    List<BlockedRecipient> blocked = new ArrayList<>();
    List<Send> sends = new ArrayList<>();
    for (Recipient r : recipients) {
      Decision d =
          GATE.decide(
              new Contact(spec.tenantId(), spec.campaignId(), null, spec.channel(), r.phone()),
              facts);
      if (d instanceof Decision.Block b && b.reason() != BlockReason.KILL_SWITCH) {
        blocked.add(new BlockedRecipient(r.no(), b.reason(), b.rule()));
        continue;
      }
      Rendered rendered = template.render(r.fields());
      if (rendered instanceof Rendered.Missing m) {
        blocked.add(new BlockedRecipient(r.no(), BlockReason.INVALID, missingFieldRule(m)));
        continue;
      }
      String body = ((Rendered.Text) rendered).body();
      // A call says its own way out (the keypad or a spoken word), not "Reply STOP".
      if (!spec.isCall(0) && !contactedBefore.contains(r.phone())) {
        body = OptOutDisclosure.withDisclosure(body);
      }
      sends.add(
          new Send(
              r.no(),
              0,
              r.phone(),
              spec.senderFor(r.phone()),
              body,
              spec.idempotencyKey(r.no(), 0),
              r.timezones(),
              r.state()));
    }
    return new BlockEntity.Planned(blocked, sends, 0);
  }

  /** Follow-ups rendered when due: the sends to journal, and those a missing field blocks. */
  record FollowUps(List<Send> sends, List<SendOutcome> blocked) {

    /** The intents, then the blocked outcomes (if any), journaled together. */
    List<BlockEntity.Event> events() {
      List<BlockEntity.Event> events = new ArrayList<>();
      events.add(new BlockEntity.StepPlanned(sends));
      if (!blocked.isEmpty()) {
        events.add(new BlockEntity.Outcomes(blocked));
      }
      return events;
    }
  }

  /**
   * Renders the due follow-ups ({@code due}: sends without a body) with their recipients' fields; a
   * recipient not among {@code recipients} blocks as a missing field {@code recipient}.
   */
  static FollowUps followUps(
      BlockSpec spec, List<Send> due, Map<Long, Recipient> recipients, Instant now) {
    List<Send> sends = new ArrayList<>();
    List<SendOutcome> blocked = new ArrayList<>();
    for (Send f : due) {
      Recipient r = recipients.get(f.recipient());
      Rendered rendered =
          r == null
              ? new Rendered.Missing(List.of("recipient"))
              : MessageTemplate.parse(spec.message(f.step())).render(r.fields());
      if (rendered instanceof Rendered.Text t) {
        sends.add(f.withBody(t.body()));
      } else {
        blocked.add(
            new SendOutcome(
                f.recipient(),
                f.step(),
                SendOutcome.Kind.BLOCKED,
                null,
                missingFieldRule((Rendered.Missing) rendered),
                BlockReason.INVALID,
                null,
                now,
                null));
      }
    }
    return new FollowUps(sends, blocked);
  }

  private static String missingFieldRule(Rendered.Missing m) {
    return "invalid:missing-field:" + String.join(",", m.fieldNames());
  }
}
