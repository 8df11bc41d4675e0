package io.outreach.persistence;

import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.FrequencyCap;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.compliance.KillSwitch;
import io.outreach.engine.compliance.Purpose;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The contact ledger in PostgreSQL: one transaction per batch takes each person's advisory lock
 * ({@link PersonLocks}), reads their opt-out, do-not-contact listings, prior contacts within the
 * longest cap window (tenant-wide: every campaign and agent) and last inbound message, lets the
 * {@link ComplianceGate} decide, records the allowed contacts and starts their calls, then commits.
 * A contact's own earlier row (a resend after a crash, same key) does not count against it, and is
 * recorded once.
 */
public final class ContactLedgerRepository implements ContactLedger {
  /** Ledger rows are kept this long past the longest cap window, then purged. */
  static final Duration STATE_WINDOW = Duration.ofHours(24);

  private final TenantJdbc tenantJdbc;
  private final ComplianceGate gate = new ComplianceGate();

  public ContactLedgerRepository(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** How far back contacts count: the longest tenant cap, and the states' 24 hours. */
  static Duration window(ContactRules rules) {
    Duration longest =
        rules.tenantCaps().stream()
            .map(FrequencyCap::per)
            .reduce(STATE_WINDOW, (a, b) -> a.compareTo(b) >= 0 ? a : b);
    Duration spacing = rules.followUps() == null ? Duration.ZERO : rules.followUps().minSpacing();
    return spacing.compareTo(longest) > 0 ? spacing : longest;
  }

  @Override
  public GateFacts planFacts(
      String tenantId, List<String> phones, ContactRules rules, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c ->
            new GateFacts(
                List.of(),
                false,
                DncRepository.listed(c, phones),
                optedOut(c, phones),
                rules,
                DncRepository.nationalCopyAsOf(c),
                priorContacts(c, phones, now.minus(window(rules)), Set.of()),
                lastInbound(c, phones)));
  }

  @Override
  public List<Decision> reserve(
      String tenantId,
      List<Candidate> candidates,
      ContactRules rules,
      List<KillSwitch> killSwitches,
      Instant now,
      Consumer<Candidate> dispatch) {
    List<String> phones =
        candidates.stream()
            .map(x -> x.contact().phone())
            .filter(Objects::nonNull)
            .distinct()
            .toList();
    Set<String> ownKeys = new HashSet<>();
    candidates.forEach(x -> ownKeys.add(x.key()));
    boolean followUps =
        candidates.stream().anyMatch(x -> x.contact().purpose() == Purpose.FOLLOW_UP);
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          PersonLocks.lock(c, tenantId, phones);
          Map<String, List<Instant>> prior =
              priorContacts(c, phones, now.minus(window(rules)), ownKeys);
          GateFacts facts =
              new GateFacts(
                  killSwitches,
                  false,
                  DncRepository.listed(c, phones),
                  optedOut(c, phones),
                  rules,
                  DncRepository.nationalCopyAsOf(c),
                  prior,
                  followUps ? lastInbound(c, phones) : Map.of());
          List<Decision> decisions = new ArrayList<>(candidates.size());
          List<Candidate> allowed = new ArrayList<>();
          long followUpRoom = followUps ? followUpRoom(c, tenantId, rules, now) : Long.MAX_VALUE;
          for (Candidate x : candidates) {
            Decision d = gate.decide(x.contact(), facts, now);
            if (d instanceof Decision.Allow && x.contact().purpose() == Purpose.FOLLOW_UP) {
              if (followUpRoom <= 0) {
                // Cathy's daily cap: the rest of the tenant's follow-ups wait for its next day.
                d = new Decision.Defer(rules.followUps().nextDay(now), "cathy:daily-cap");
              } else {
                followUpRoom--;
              }
            }
            decisions.add(d);
            if (d instanceof Decision.Allow) {
              allowed.add(x);
              // A second contact to the same person in this batch counts this one.
              prior.computeIfAbsent(x.contact().phone(), p -> new ArrayList<>()).add(now);
            }
          }
          record(c, tenantId, allowed, now);
          // The calls start while the locks are held: an opt-out stored after this transaction
          // is stored after these calls began, and every later one sees it.
          allowed.forEach(dispatch);
          return decisions;
        });
  }

  /**
   * How many more follow-ups the tenant may send today under Cathy's daily cap (unbounded without
   * one), counted under the tenant's follow-up lock so racing blocks and nodes share one count.
   */
  private static long followUpRoom(Connection c, String tenantId, ContactRules rules, Instant now)
      throws SQLException {
    if (rules.followUps() == null || rules.followUps().dailyCap() == null) {
      return Long.MAX_VALUE;
    }
    try (PreparedStatement ps = c.prepareStatement("select pg_advisory_xact_lock(?)")) {
      ps.setLong(1, PersonLocks.key(tenantId, "follow-ups-today"));
      ps.executeQuery().close();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "select count(*) from contact_ledger where purpose = 'follow_up' and at >= ?")) {
      ps.setTimestamp(1, Timestamp.from(rules.followUps().dayStart(now)));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rules.followUps().dailyCap() - rs.getLong(1);
      }
    }
  }

  private static Map<String, List<Instant>> priorContacts(
      Connection c, List<String> phones, Instant since, Set<String> ownKeys) throws SQLException {
    Map<String, List<Instant>> prior = new HashMap<>();
    try (PreparedStatement ps =
        // Caps count outreach: answers to the person's own messages (keywords, an agent's) do not.
        c.prepareStatement(
            "select phone, contact_key, at from contact_ledger where phone = any(?) and at > ?"
                + " and purpose not in ('opt_out_confirmation', 'help_reply', 'agent_reply')")) {
      ps.setArray(1, c.createArrayOf("text", phones.toArray()));
      ps.setTimestamp(2, Timestamp.from(since));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (!ownKeys.contains(rs.getString(2))) {
            prior
                .computeIfAbsent(rs.getString(1), p -> new ArrayList<>())
                .add(rs.getTimestamp(3).toInstant());
          }
        }
      }
    }
    return prior;
  }

  static Set<String> optedOut(Connection c, List<String> phones) throws SQLException {
    Set<String> out = new HashSet<>();
    try (PreparedStatement ps =
        c.prepareStatement("select phone from opt_outs where phone = any(?)")) {
      ps.setArray(1, c.createArrayOf("text", phones.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  private static Map<String, Instant> lastInbound(Connection c, List<String> phones)
      throws SQLException {
    Map<String, Instant> out = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "select phone, max(received_at) from webhook_receipts where kind = 'inbound' and phone = any(?)"
                + " group by phone")) {
      ps.setArray(1, c.createArrayOf("text", phones.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getTimestamp(2).toInstant());
        }
      }
    }
    return out;
  }

  private static void record(Connection c, String tenantId, List<Candidate> allowed, Instant now)
      throws SQLException {
    if (allowed.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into contact_ledger (tenant_id, phone, contact_key, at, sender, purpose)"
                + " select ?, ph, k, ?, snd, pur from unnest(?::text[], ?::text[], ?::text[], ?::text[])"
                + " as t(ph, k, snd, pur) on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setArray(
          3, c.createArrayOf("text", allowed.stream().map(x -> x.contact().phone()).toArray()));
      ps.setArray(4, c.createArrayOf("text", allowed.stream().map(Candidate::key).toArray()));
      ps.setArray(5, c.createArrayOf("text", allowed.stream().map(Candidate::sender).toArray()));
      ps.setArray(
          6,
          c.createArrayOf(
              "text",
              allowed.stream()
                  .map(x -> x.contact().purpose().name().toLowerCase(java.util.Locale.ROOT))
                  .toArray()));
      ps.executeUpdate();
    }
  }

  /** Drops ledger rows no cap can count any more (older than the longest window, plus a day). */
  public int purge(String tenantId, ContactRules rules, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("delete from contact_ledger where at < ?")) {
            ps.setTimestamp(1, Timestamp.from(now.minus(window(rules)).minus(Duration.ofDays(1))));
            return ps.executeUpdate();
          }
        });
  }
}
