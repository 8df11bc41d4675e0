package io.outreach.engine.compliance;

import io.outreach.engine.CborSerializable;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The engaged kill switches of one owner (a tenant, or the platform), as an immutable value the
 * owning entity keeps in its state. Engaging the same scope and target twice answers the switch
 * already engaged.
 */
public record KillSwitches(SortedMap<String, KillSwitch> engaged) implements CborSerializable {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<String> CHANNELS = Set.of("sms", "voice");
  private static final Set<String> AGENTS = Set.of("gianna", "cathy", "luci");

  public static KillSwitches none() {
    return new KillSwitches(new TreeMap<>());
  }

  public List<KillSwitch> all() {
    return List.copyOf(engaged.values());
  }

  public Optional<KillSwitch> find(KillSwitch.Scope scope, String target) {
    return engaged.values().stream()
        .filter(k -> k.scope() == scope && k.target().equals(target))
        .findFirst();
  }

  public Optional<KillSwitch> get(String id) {
    return Optional.ofNullable(engaged.get(id));
  }

  public KillSwitches with(KillSwitch k) {
    SortedMap<String, KillSwitch> next = new TreeMap<>(engaged);
    next.put(k.id(), k);
    return new KillSwitches(next);
  }

  public KillSwitches without(String id) {
    SortedMap<String, KillSwitch> next = new TreeMap<>(engaged);
    next.remove(id);
    return new KillSwitches(next);
  }

  /**
   * How many switches one tenant may have engaged at once: every permit looks through them, so
   * their number is bounded (a wider scope stops more at once).
   */
  public static final int MAX_ENGAGED = 100;

  /** A problem with engaging {@code scope}/{@code target}, or null when it may be engaged. */
  public static String problem(KillSwitch.Scope scope, String target, String tenantId) {
    if (target == null || target.isBlank()) {
      return "target is required";
    }
    return switch (scope) {
      case PLATFORM -> null;
      case TENANT ->
          target.equals(tenantId) ? null : "a tenant kill switch targets the caller's own tenant";
      case CAMPAIGN -> target.length() <= 100 ? null : "target is not a campaign id";
      case AGENT -> AGENTS.contains(target) ? null : "agent must be one of gianna, cathy, luci";
      case CHANNEL -> CHANNELS.contains(target) ? null : "channel must be sms or voice";
    };
  }

  /** A new switch id; {@code prefix} tells the owner (platform or tenant) apart. */
  public static String newId(String prefix) {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    return prefix + HexFormat.of().formatHex(b);
  }

  /** A new switch engaged now. */
  public static KillSwitch engage(
      String prefix, KillSwitch.Scope scope, String target, String actor, Instant at) {
    return new KillSwitch(newId(prefix), scope, target, actor, at);
  }
}
