package io.outreach.engine.compliance;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.outreach.engine.CborSerializable;
import io.outreach.engine.campaign.CampaignDefinition.SendWindow;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The contact rules the ComplianceGate applies to marketing contacts: the federal (TCPA) local
 * hours, the states' own rules by two-letter code, the tenant's frequency caps (across all of its
 * campaigns and agents), and how old the national do-not-call copy may be and whether one must be
 * loaded at all.
 *
 * <p>Read from {@code outreach.compliance} ({@link #from(Config)}); the defaults in {@code
 * reference.conf} equal {@link #defaults()}. A state is added in config alone.
 */
public record ContactRules(
    DailyHours federalHours,
    Map<String, StateRule> states,
    List<FrequencyCap> tenantCaps,
    Duration nationalCopyMaxAge,
    Requirement nationalCopyRequired,
    FollowUpPolicy followUps)
    implements CborSerializable {

  private static final String ROOT = "outreach.compliance";

  /**
   * Whether a national do-not-call copy must be loaded: {@code ON} blocks every marketing contact
   * while none is loaded or the loaded one is too old; {@code AUTO} blocks only while the loaded
   * copy is too old, so a local run or sandbox without any copy keeps working (deployments that
   * contact real people set {@code ON}); {@code OFF} checks no copy at all.
   */
  public enum Requirement {
    AUTO,
    ON,
    OFF
  }

  /** Rules without follow-up guardrails (previews, replies). */
  public ContactRules(
      DailyHours federalHours,
      Map<String, StateRule> states,
      List<FrequencyCap> tenantCaps,
      Duration nationalCopyMaxAge,
      Requirement nationalCopyRequired) {
    this(federalHours, states, tenantCaps, nationalCopyMaxAge, nationalCopyRequired, null);
  }

  public ContactRules {
    Objects.requireNonNull(federalHours, "federalHours");
    Objects.requireNonNull(nationalCopyMaxAge, "nationalCopyMaxAge");
    Objects.requireNonNull(nationalCopyRequired, "nationalCopyRequired");
    states = Map.copyOf(states);
    tenantCaps = List.copyOf(tenantCaps);
  }

  /** Federal 08:00-21:00; FL, OK, MD 08:00-20:00 and 3 per 24 h; 1 per 24 h and 3 per 7 d. */
  public static ContactRules defaults() {
    StateRule eightToEight = new StateRule(LocalTime.of(8, 0), LocalTime.of(20, 0), 3);
    return new ContactRules(
        new DailyHours(LocalTime.of(8, 0), LocalTime.of(21, 0)),
        Map.of("FL", eightToEight, "OK", eightToEight, "MD", eightToEight),
        List.of(new FrequencyCap(1, Duration.ofHours(24)), new FrequencyCap(3, Duration.ofDays(7))),
        Duration.ofDays(31),
        Requirement.AUTO);
  }

  /**
   * These rules for an engine that does ({@code realProviders}) or does not contact real people:
   * {@code AUTO} then means {@code ON} (a copy must be loaded and fresh) or stays tolerant of a
   * missing copy (the sandbox, the local run).
   */
  public ContactRules forProviders(boolean realProviders) {
    if (nationalCopyRequired != Requirement.AUTO || !realProviders) {
      return this;
    }
    return new ContactRules(
        federalHours, states, tenantCaps, nationalCopyMaxAge, Requirement.ON, followUps);
  }

  /** These rules with a tenant's own caps instead of the configured ones. */
  public ContactRules withTenantCaps(List<FrequencyCap> caps) {
    return new ContactRules(
        federalHours, states, caps, nationalCopyMaxAge, nationalCopyRequired, followUps);
  }

  /** These rules with Cathy's guardrails over follow-ups. */
  public ContactRules withFollowUps(FollowUpPolicy policy) {
    return new ContactRules(
        federalHours, states, tenantCaps, nationalCopyMaxAge, nationalCopyRequired, policy);
  }

  /** The rule of {@code usState} (a two-letter code in any case), if it has one. */
  public Optional<StateRule> state(String usState) {
    return usState == null
        ? Optional.empty()
        : Optional.ofNullable(states.get(usState.toUpperCase(Locale.ROOT)));
  }

  /** The hours a contact may be made in: federal, narrowed by the state and by the window. */
  public DailyHours hoursFor(String usState, SendWindow window) {
    DailyHours hours = federalHours;
    Optional<StateRule> state = state(usState);
    if (state.isPresent()) {
      hours = hours.intersect(state.get().hours());
    }
    if (window != null) {
      hours = hours.intersect(new DailyHours(window.start(), window.end()));
    }
    return hours;
  }

  /**
   * Reads {@code outreach.compliance} of {@code root}; a missing or bad value fails with an {@link
   * IllegalArgumentException} naming its key, so a bad deployment stops at start.
   */
  public static ContactRules from(Config root) {
    Config c;
    try {
      c = root.getConfig(ROOT);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
    }
    try {
      return new ContactRules(
          federalHours(c.getConfig("federal-hours")),
          states(c.getConfig("states")),
          caps(c),
          positive(c, "national-dnc.max-age"),
          requirement(c.getString("national-dnc.required")));
    } catch (ConfigException e) {
      // Config names the key relative to the block it reads.
      throw new IllegalArgumentException("invalid setting " + ROOT + ": " + e.getMessage(), e);
    }
  }

  private static DailyHours federalHours(Config c) {
    onlyKeys(c, "federal-hours", Set.of("start", "end"));
    return hours(c, "federal-hours");
  }

  private static Map<String, StateRule> states(Config states) {
    Map<String, StateRule> rules = new TreeMap<>();
    for (String code : states.root().keySet()) {
      String key = "states." + code;
      if (!code.matches("[A-Z]{2}")) {
        throw invalid(key, "must be a two-letter US state code in upper case");
      }
      rules.put(code, named(key, () -> state(states.getConfig(code), key)));
    }
    return rules;
  }

  private static StateRule state(Config s, String key) {
    onlyKeys(s, key, Set.of("start", "end", "max-per-24h"));
    DailyHours hours = hours(s, key);
    int max = 0;
    if (s.hasPath("max-per-24h")) {
      max = s.getInt("max-per-24h");
      if (max < 1) {
        throw invalid(key + ".max-per-24h", "must be at least 1 (omit for no cap), was " + max);
      }
    }
    return new StateRule(hours.start(), hours.end(), max);
  }

  private static List<FrequencyCap> caps(Config c) {
    List<FrequencyCap> caps = new ArrayList<>();
    List<? extends Config> entries = c.getConfigList("frequency-caps");
    for (int i = 0; i < entries.size(); i++) {
      String key = "frequency-caps[" + i + "]";
      Config cap = entries.get(i);
      caps.add(named(key, () -> cap(cap, key)));
    }
    return caps;
  }

  private static FrequencyCap cap(Config cap, String key) {
    onlyKeys(cap, key, Set.of("max", "per"));
    int max = cap.getInt("max");
    if (max < 1) {
      throw invalid(key + ".max", "must be at least 1, was " + max);
    }
    return new FrequencyCap(max, positive(cap, "per", key + ".per"));
  }

  // Config's own messages name a key relative to the entry being read; this names the entry.
  private static <T> T named(String key, Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      IllegalArgumentException named = invalid(key, e.getMessage());
      named.initCause(e);
      throw named;
    }
  }

  private static DailyHours hours(Config c, String key) {
    DailyHours hours = new DailyHours(time(c, "start", key), time(c, "end", key));
    if (hours.isEmpty()) {
      throw invalid(key, "start must be before end (hours do not cross midnight)");
    }
    return hours;
  }

  private static LocalTime time(Config c, String path, String key) {
    String value = c.getString(path);
    try {
      return LocalTime.parse(value);
    } catch (DateTimeParseException e) {
      throw invalid(key + "." + path, "must be a local time HH:mm, was \"" + value + "\"");
    }
  }

  private static Duration positive(Config c, String path) {
    return positive(c, path, path);
  }

  private static Duration positive(Config c, String path, String key) {
    Duration d = c.getDuration(path);
    if (d.isNegative() || d.isZero()) {
      throw invalid(key, "must be positive, was " + d);
    }
    return d;
  }

  private static Requirement requirement(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "auto" -> Requirement.AUTO;
      case "on", "true", "yes" -> Requirement.ON;
      case "off", "false", "no" -> Requirement.OFF;
      default -> throw invalid("national-dnc.required", "must be auto, on or off, was " + value);
    };
  }

  // A misspelt key would silently drop a legal rule, so unknown keys are refused.
  private static void onlyKeys(Config c, String key, Set<String> known) {
    for (String k : c.root().keySet()) {
      if (!known.contains(k)) {
        String expected = String.join(", ", new TreeSet<>(known));
        throw invalid(key + "." + k, "is not a known key (known: " + expected + ")");
      }
    }
  }

  private static IllegalArgumentException invalid(String key, String problem) {
    return new IllegalArgumentException("invalid setting " + ROOT + "." + key + ": " + problem);
  }
}
