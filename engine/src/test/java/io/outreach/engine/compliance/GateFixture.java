package io.outreach.engine.compliance;

import io.outreach.engine.campaign.CampaignDefinition.SendWindow;
import io.outreach.engine.dnc.DncRegistry.Listing;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Contacts and facts for the gate's tests, built from the few parts each test changes. */
final class GateFixture {
  static final String PHONE = "+12125550100";
  static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

  private GateFixture() {}

  /** A campaign's first message to {@link #PHONE}; zones comma-separated, window "HH:mm-HH:mm". */
  static Contact contact(String zones, String usState, String window) {
    return contact(Purpose.CAMPAIGN, null, zones(zones), usState, window(window));
  }

  static Contact contact(
      Purpose purpose, Instant firstMessageAt, List<ZoneId> zones, String usState, SendWindow w) {
    return new Contact(
        "acme", "cmp-1", null, Channel.SMS, PHONE, zones, usState, w, purpose, firstMessageAt);
  }

  static List<ZoneId> zones(String commaSeparated) {
    return commaSeparated == null || commaSeparated.isBlank()
        ? List.of()
        : Arrays.stream(commaSeparated.split(",")).map(String::strip).map(ZoneId::of).toList();
  }

  static SendWindow window(String startDashEnd) {
    if (startDashEnd == null || startDashEnd.isBlank()) {
      return null;
    }
    String[] parts = startDashEnd.strip().split("-");
    return new SendWindow(LocalTime.parse(parts[0]), LocalTime.parse(parts[1]));
  }

  static Facts facts() {
    return new Facts();
  }

  /** Facts about {@link #PHONE}: nothing stops it until a test says so. */
  static final class Facts {
    private final List<KillSwitch> killSwitches = new ArrayList<>();
    private boolean suspended;
    private final Map<String, Listing> dnc = new HashMap<>();
    private boolean optedOut;
    private ContactRules rules = ContactRules.defaults();
    private Optional<LocalDate> asOf = Optional.empty();
    private final List<Instant> prior = new ArrayList<>();
    private Instant lastInbound;

    Facts kill(KillSwitch k) {
      killSwitches.add(k);
      return this;
    }

    Facts suspended() {
      suspended = true;
      return this;
    }

    Facts listed(Listing listing) {
      dnc.put(PHONE, listing);
      return this;
    }

    Facts optedOut() {
      optedOut = true;
      return this;
    }

    Facts rules(ContactRules r) {
      rules = r;
      return this;
    }

    Facts nationalCopyAsOf(LocalDate date) {
      asOf = Optional.of(date);
      return this;
    }

    Facts contactedAt(Instant... at) {
      prior.addAll(List.of(at));
      return this;
    }

    Facts contactedAt(List<Instant> at) {
      prior.addAll(at);
      return this;
    }

    Facts lastInbound(Instant at) {
      lastInbound = at;
      return this;
    }

    GateFacts build() {
      return new GateFacts(
          List.copyOf(killSwitches),
          suspended,
          Map.copyOf(dnc),
          optedOut ? Set.of(PHONE) : Set.of(),
          rules,
          asOf,
          prior.isEmpty() ? Map.of() : Map.of(PHONE, List.copyOf(prior)),
          lastInbound == null ? Map.of() : Map.of(PHONE, lastInbound));
    }
  }

  /** A decision as one line: {@code ALLOW}, {@code DEFER <until> <rule>}, {@code BLOCK r/rule}. */
  static String line(Decision d) {
    if (d instanceof Decision.Block b) {
      return "BLOCK " + b.reason() + "/" + b.rule();
    }
    if (d instanceof Decision.Defer f) {
      return "DEFER " + f.until() + " " + f.rule();
    }
    return "ALLOW";
  }
}
