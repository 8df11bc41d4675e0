package io.outreach.engine.compliance;

import io.outreach.engine.dnc.DncRegistry;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The one decision every outbound contact passes, whoever makes it (a campaign block, an agent): a
 * pure function of the contact, the facts fetched for its batch and the instant it would be made,
 * so it is exact and testable, and every decision names its rule for the audit trail.
 *
 * <p>Rules in order of precedence; the first that applies decides:
 *
 * <ol>
 *   <li>{@code kill-switch:<scope>}, then {@code tenant-suspended}: nothing covered starts,
 *       whatever its purpose;
 *   <li>{@code invalid:no-phone}: no number to contact on a phone channel;
 *   <li>{@code opt-out}: the person revoked consent for the whole tenant;
 *   <li>{@code dnc:tenant}, {@code dnc:national}: on a do-not-contact list;
 *   <li>{@code dnc:national-copy-stale}, {@code dnc:national-copy-missing}: the national copy is
 *       older than allowed, or none is loaded while one is required, so no listing can be trusted;
 *   <li>{@code stop-on-reply}: a follow-up to a person who has written since the campaign first
 *       wrote to them;
 *   <li>legal hours in every zone of the recipient (federal, narrowed by the state's and the
 *       campaign window's): {@link Decision.Defer} to the first allowed instant, naming the rule
 *       that excludes now ({@code hours:federal}, {@code hours:state:FL}, {@code hours:window});
 *       blocked as {@code hours:no-zone} when the recipient's zone is unknown and as {@code
 *       hours:no-common-window} when the zones share no allowed instant within {@link
 *       LegalHours#HORIZON};
 *   <li>{@code frequency:tenant:<max>/<per>}, then {@code frequency:state:<code>}: the person had
 *       as many contacts in the cap's window as it allows, counted across every campaign and agent:
 *       {@link Decision.Defer} to the first instant inside the legal hours at which every reached
 *       cap has room again (a cap spaces contacts out; it does not drop the person).
 * </ol>
 *
 * Transactional replies ({@link Purpose#transactional()}) answer the person's own message, so only
 * the first two rules hold them back: an opt-out confirmation goes to an opted-out number by
 * definition, and carriers require HELP to be answered whatever the number's state.
 */
public final class ComplianceGate {

  /**
   * The rules that need neither a clock nor a contact history: kill switches, suspension, no phone,
   * opt-out and the do-not-contact lists. For callers that predate legal hours; every new caller
   * uses {@link #decide(Contact, GateFacts, Instant)}.
   */
  public Decision decide(Contact contact, GateFacts facts) {
    return stoppedOrUnreachable(contact, facts)
        .or(() -> contact.purpose().transactional() ? Optional.empty() : listed(contact, facts))
        .orElse(Decision.ALLOW);
  }

  /** Every rule, for a contact that would be made at {@code now}. */
  public Decision decide(Contact contact, GateFacts facts, Instant now) {
    return stoppedOrUnreachable(contact, facts)
        .or(
            () ->
                contact.purpose().transactional()
                    ? Optional.empty()
                    : marketing(contact, facts, now))
        .orElse(Decision.ALLOW);
  }

  /** What holds back every contact, transactional ones too. */
  private static Optional<Decision> stoppedOrUnreachable(Contact contact, GateFacts facts) {
    return stopped(contact, facts).or(() -> noPhone(contact));
  }

  private static Optional<Decision> marketing(Contact contact, GateFacts facts, Instant now) {
    ContactRules rules = facts.rules();
    return listed(contact, facts)
        .or(() -> nationalCopy(rules, facts.nationalCopyAsOf(), now))
        .or(() -> stopOnReply(contact, facts))
        .or(() -> legalHours(contact, rules, now))
        .or(
            () ->
                contact.purpose() == Purpose.AGENT_REPLY
                    ? Optional.empty()
                    : frequency(contact, rules, facts.priorContacts(), now));
  }

  private static Optional<Decision> stopped(Contact contact, GateFacts facts) {
    return hold(contact, facts.killSwitches(), facts.tenantSuspended())
        .map(rule -> new Decision.Block(BlockReason.KILL_SWITCH, rule));
  }

  /**
   * The rule that holds back everything it covers, whatever its purpose: the first engaged kill
   * switch that covers the contact ({@code kill-switch:<scope>}), then the tenant's suspension
   * ({@code tenant-suspended}). The gate blocks on it; the tenant holds its permits on it.
   */
  public static Optional<String> hold(
      Contact contact, Collection<KillSwitch> switches, boolean tenantSuspended) {
    for (KillSwitch k : switches) {
      if (k.covers(contact)) {
        return Optional.of("kill-switch:" + k.scope().code());
      }
    }
    return tenantSuspended ? Optional.of("tenant-suspended") : Optional.empty();
  }

  private static Optional<Decision> noPhone(Contact contact) {
    return contact.phone() == null
        ? block(BlockReason.INVALID, "invalid:no-phone")
        : Optional.empty();
  }

  private static Optional<Decision> listed(Contact contact, GateFacts facts) {
    if (facts.optedOut().contains(contact.phone())) {
      return block(BlockReason.OPT_OUT, "opt-out");
    }
    DncRegistry.Listing listing = facts.dnc().get(contact.phone());
    if (listing != null) {
      return block(
          BlockReason.DNC, listing == DncRegistry.Listing.TENANT ? "dnc:tenant" : "dnc:national");
    }
    return Optional.empty();
  }

  private static Optional<Decision> nationalCopy(
      ContactRules rules, Optional<LocalDate> asOf, Instant now) {
    if (rules.nationalCopyRequired() == ContactRules.Requirement.OFF) {
      return Optional.empty();
    }
    if (asOf.isEmpty()) {
      return rules.nationalCopyRequired() == ContactRules.Requirement.ON
          ? block(BlockReason.DNC_STALE, "dnc:national-copy-missing")
          : Optional.empty();
    }
    // The copy's age counts from the start of its as-of day in UTC: never younger than it is.
    Instant freshUntil =
        asOf.get().atStartOfDay(ZoneOffset.UTC).toInstant().plus(rules.nationalCopyMaxAge());
    return now.isAfter(freshUntil)
        ? block(BlockReason.DNC_STALE, "dnc:national-copy-stale")
        : Optional.empty();
  }

  private static Optional<Decision> stopOnReply(Contact contact, GateFacts facts) {
    if (contact.purpose() != Purpose.FOLLOW_UP) {
      return Optional.empty();
    }
    Instant inbound = facts.lastInbound().get(contact.phone());
    return inbound != null && inbound.isAfter(contact.firstMessageAt())
        ? block(BlockReason.REPLIED, "stop-on-reply")
        : Optional.empty();
  }

  /**
   * The legal-hours deferral of a marketing contact at {@code now}, if the hours defer it: a
   * decision that needs no person's facts, so a sender can wait without asking for a permit or the
   * ledger. Whatever it leaves, the full decision at the moment of sending still takes.
   */
  public Optional<Decision.Defer> outsideHours(Contact contact, ContactRules rules, Instant now) {
    if (contact.purpose().transactional()) {
      return Optional.empty();
    }
    return legalHours(contact, rules, now)
        .filter(Decision.Defer.class::isInstance)
        .map(Decision.Defer.class::cast);
  }

  private static Optional<Decision> legalHours(Contact contact, ContactRules rules, Instant now) {
    if (contact.zones().isEmpty()) {
      return block(BlockReason.INVALID, "hours:no-zone");
    }
    DailyHours hours = rules.hoursFor(contact.usState(), contact.window());
    Optional<Instant> next = LegalHours.nextAllowed(now, contact.zones(), hours);
    if (next.isEmpty()) {
      return block(BlockReason.INVALID, "hours:no-common-window");
    }
    if (next.get().equals(now)) {
      return Optional.empty();
    }
    return Optional.of(new Decision.Defer(next.get(), hoursRule(contact, rules, now)));
  }

  /** The rule that excludes {@code now} in some zone, the widest first: federal, state, window. */
  private static String hoursRule(Contact contact, ContactRules rules, Instant now) {
    List<LocalTime> localTimes =
        contact.zones().stream().map(z -> now.atZone(z).toLocalTime()).toList();
    if (!localTimes.stream().allMatch(rules.federalHours()::contains)) {
      return "hours:federal";
    }
    Optional<StateRule> state = rules.state(contact.usState());
    if (state.isPresent() && !localTimes.stream().allMatch(state.get().hours()::contains)) {
      return "hours:state:" + stateCode(contact);
    }
    return "hours:window";
  }

  /**
   * The caps the person reached, as a deferral to the first instant inside the legal hours at which
   * every cap has room, naming the first cap reached (tenant caps before the state's).
   */
  private static Optional<Decision> frequency(
      Contact contact, ContactRules rules, Map<String, List<Instant>> prior, Instant now) {
    List<Instant> contacts = prior.getOrDefault(contact.phone(), List.of());
    List<FrequencyCap> caps = new ArrayList<>(rules.tenantCaps());
    rules.state(contact.usState()).flatMap(StateRule::cap).ifPresent(caps::add);
    FrequencyCap spacing =
        contact.purpose() == Purpose.FOLLOW_UP && rules.followUps() != null
            ? rules.followUps().spacingCap()
            : null;
    if (spacing != null) {
      caps.add(spacing);
    }
    Optional<FrequencyCap> first = caps.stream().filter(c -> c.reached(contacts, now)).findFirst();
    if (first.isEmpty()) {
      return Optional.empty();
    }
    String rule;
    if (rules.tenantCaps().contains(first.get())) {
      rule = "frequency:tenant:" + first.get().label();
    } else if (first.get() == spacing) {
      rule = "frequency:cathy:spacing";
    } else {
      rule = "frequency:state:" + stateCode(contact);
    }
    // Each step moves to a later instant where a reached cap has room, then into the hours; a
    // contact dated after now (another node's clock) can fill a window again, hence the loop.
    DailyHours hours = rules.hoursFor(contact.usState(), contact.window());
    Instant until = now;
    for (int step = 0; step <= contacts.size() + 1; step++) {
      Instant t = until;
      for (FrequencyCap cap : caps) {
        Instant room = cap.nextRoom(contacts, t);
        t = room.isAfter(t) ? room : t;
      }
      t = LegalHours.nextAllowed(t, contact.zones(), hours).orElse(t);
      if (t.equals(until)) {
        break;
      }
      until = t;
    }
    return Optional.of(new Decision.Defer(until, rule));
  }

  private static String stateCode(Contact contact) {
    return contact.usState().toUpperCase(Locale.ROOT);
  }

  private static Optional<Decision> block(BlockReason reason, String rule) {
    return Optional.of(new Decision.Block(reason, rule));
  }
}
