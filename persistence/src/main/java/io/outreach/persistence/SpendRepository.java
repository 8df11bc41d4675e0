package io.outreach.persistence;

import io.outreach.engine.spend.SpendLedger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The spend ledger in PostgreSQL ({@code spend_buckets}, {@code spend_reservations}, {@code
 * spend_entries}, see V13). Exact under concurrency: a reservation's requests are serialized by a
 * transaction-level advisory lock on the reservation, and the buckets a request touches are locked
 * in key order, so racing reservations (blocks, agents, nodes) never together take more than a
 * limit allows. Every request and charge is an entry with a unique key, so a retry after a crash
 * counts once.
 */
public final class SpendRepository implements SpendLedger {
  /** The percentages of a budget at which an alert is raised. */
  static final int[] ALERTS = {50, 80, 100};

  private final Map<Integer, LongAdder> alertCounts = new ConcurrentHashMap<>();
  private final TenantJdbc tenantJdbc;
  private final Clock clock;

  public SpendRepository(TenantJdbc tenantJdbc, Clock clock) {
    this.tenantJdbc = tenantJdbc;
    this.clock = clock;
  }

  @Override
  public Grant reserve(
      String tenantId,
      String reservationId,
      String requestKey,
      List<Budget> budgets,
      long wantedMicros,
      String campaignId,
      String agent) {
    Instant now = clock.instant();
    List<Alert> raised = new ArrayList<>();
    Grant grant =
        tenantJdbc.inTenant(
            tenantId,
            c -> {
              raised.clear();
              lock(c, tenantId, reservationId);
              Optional<Grant> earlier = earlierGrant(c, tenantId, reservationId, requestKey);
              if (earlier.isPresent()) {
                return earlier.get();
              }
              List<Budget> sorted =
                  budgets.stream().sorted(Comparator.comparing(Budget::bucket)).toList();
              long room = Long.MAX_VALUE;
              String exhausted = null;
              for (Budget b : sorted) {
                long left = lockBucket(c, tenantId, b, now);
                if (left < room) {
                  room = left;
                  exhausted = b.bucket();
                }
              }
              long granted = Math.max(0, Math.min(wantedMicros, room));
              Optional<String> bound =
                  granted < wantedMicros ? Optional.ofNullable(exhausted) : Optional.empty();
              if (granted > 0) {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "update spend_buckets set reserved_micros = reserved_micros + ?, updated_at = ?"
                            + " where tenant_id = ? and bucket = any(?)")) {
                  ps.setLong(1, granted);
                  ps.setTimestamp(2, Timestamp.from(now));
                  ps.setString(3, tenantId);
                  ps.setArray(4, buckets(c, sorted));
                  ps.executeUpdate();
                }
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into spend_reservations (tenant_id, reservation_id, buckets,"
                          + " campaign_id, agent, reserved_micros, created_at, updated_at)"
                          + " values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (tenant_id, reservation_id)"
                          + " do update set reserved_micros = spend_reservations.reserved_micros +"
                          + " excluded.reserved_micros, buckets = excluded.buckets, updated_at ="
                          + " excluded.updated_at")) {
                ps.setString(1, tenantId);
                ps.setString(2, reservationId);
                ps.setArray(3, buckets(c, sorted));
                ps.setString(4, campaignId);
                ps.setString(5, agent);
                ps.setLong(6, granted);
                ps.setTimestamp(7, Timestamp.from(now));
                ps.setTimestamp(8, Timestamp.from(now));
                ps.executeUpdate();
              }
              if (bound.isPresent()) {
                exhausted(c, tenantId, now, bound.get(), campaignId, agent).ifPresent(raised::add);
              }
              entry(
                  c,
                  tenantId,
                  now,
                  "reserve",
                  reservationId,
                  requestKey,
                  campaignId,
                  agent,
                  granted,
                  "{\"wanted\":"
                      + wantedMicros
                      + (bound.isPresent() ? ",\"exhausted\":\"" + bound.get() + "\"" : "")
                      + "}");
              return new Grant(granted, bound);
            });
    count(raised);
    return grant;
  }

  @Override
  public List<Alert> commit(String tenantId, String reservationId, List<Charge> charges) {
    if (charges.isEmpty()) {
      return List.of();
    }
    Instant now = clock.instant();
    List<Alert> raised =
        tenantJdbc.inTenant(
            tenantId,
            c -> {
              lock(c, tenantId, reservationId);
              Reservation r = reservation(c, tenantId, reservationId);
              if (r == null) {
                throw new IllegalStateException(
                    "a charge for reservation " + reservationId + ", which does not exist");
              }
              long spent = 0;
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into spend_entries (tenant_id, at, kind, reservation_id, entry_key,"
                          + " campaign_id, agent, amount_micros) select ?, ?, 'commit', ?, k, ?, ?, a"
                          + " from unnest(?::text[], ?::bigint[]) as t(k, a) on conflict do nothing"
                          + " returning amount_micros")) {
                ps.setString(1, tenantId);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setString(3, reservationId);
                ps.setString(4, r.campaignId());
                ps.setString(5, r.agent());
                ps.setArray(
                    6, c.createArrayOf("text", charges.stream().map(Charge::key).toArray()));
                ps.setArray(
                    7, c.createArrayOf("bigint", charges.stream().map(Charge::micros).toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    spent += rs.getLong(1);
                  }
                }
              }
              List<Alert> alerts = new ArrayList<>();
              if (spent > 0) {
                committed(c, tenantId, reservationId, r, spent, now, alerts);
              }
              settle(c, tenantId, reservationId, r, charges, spent, now);
              return alerts;
            });
    count(raised);
    return raised;
  }

  /**
   * Moves {@code spent} of reservation {@code r} from reserved to committed in the reservation and
   * its buckets (what it held covers; anything above was spent all the same), adding the alerts the
   * buckets crossed to {@code alerts}.
   */
  private static void committed(
      Connection c,
      String tenantId,
      String reservationId,
      Reservation r,
      long spent,
      Instant now,
      List<Alert> alerts)
      throws SQLException {
    // What the reservation held covers the charge; anything above it was spent all the
    // same.
    long covered = Math.min(spent, Math.max(0, r.reserved() - r.committed()));
    try (PreparedStatement ps =
        c.prepareStatement(
            "update spend_reservations set committed_micros = committed_micros + ?,"
                + " reserved_micros = greatest(reserved_micros, committed_micros + ?),"
                + " updated_at = ? where tenant_id = ? and reservation_id = ?")) {
      ps.setLong(1, spent);
      ps.setLong(2, spent);
      ps.setTimestamp(3, Timestamp.from(now));
      ps.setString(4, tenantId);
      ps.setString(5, reservationId);
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update spend_buckets set committed_micros = committed_micros + ?,"
                + " reserved_micros = greatest(0, reserved_micros - ?), updated_at = ?"
                + " where tenant_id = ? and bucket = any(?)"
                + " returning bucket, committed_micros, limit_micros, alerted_percent,"
                + " exhausted")) {
      ps.setLong(1, spent);
      ps.setLong(2, covered);
      ps.setTimestamp(3, Timestamp.from(now));
      ps.setString(4, tenantId);
      ps.setArray(5, c.createArrayOf("text", r.buckets().toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          crossed(
              rs.getString(1),
              rs.getLong(2),
              rs.getLong(3),
              rs.getInt(4),
              rs.getBoolean(5),
              alerts::add);
        }
      }
    }
    for (Alert a : alerts) {
      raise(c, tenantId, now, r.campaignId(), r.agent(), a, false);
    }
  }

  /**
   * Settles the holds on work whose cost {@code charges} just committed: each hold gives back what
   * it kept beyond that cost (never more than the reservation still holds of its own), once.
   */
  private static void settle(
      Connection c,
      String tenantId,
      String reservationId,
      Reservation r,
      List<Charge> charges,
      long spent,
      Instant now)
      throws SQLException {
    long back = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into spend_entries (tenant_id, at, kind, reservation_id, entry_key,"
                + " campaign_id, agent, amount_micros) select h.tenant_id, ?, 'settle',"
                + " h.reservation_id, h.entry_key, h.campaign_id, h.agent,"
                + " greatest(0, h.amount_micros - m.amount_micros) from spend_entries h join"
                + " spend_entries m on m.tenant_id = h.tenant_id and m.kind = 'commit' and"
                + " m.reservation_id = h.reservation_id and m.entry_key = h.entry_key where"
                + " h.tenant_id = ? and h.kind = 'hold' and h.reservation_id = ? and h.entry_key ="
                + " any(?) on conflict do nothing returning amount_micros")) {
      ps.setTimestamp(1, Timestamp.from(now));
      ps.setString(2, tenantId);
      ps.setString(3, reservationId);
      ps.setArray(4, c.createArrayOf("text", charges.stream().map(Charge::key).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          back += rs.getLong(1);
        }
      }
    }
    // The reservation's own room after the commit: what it reserved and has not spent.
    long own = Math.max(0, r.reserved() - r.committed() - spent);
    giveBack(c, tenantId, reservationId, r, Math.min(back, own), now);
  }

  /** Takes {@code micros} off what reservation {@code r} and its buckets hold. */
  private static void giveBack(
      Connection c, String tenantId, String reservationId, Reservation r, long micros, Instant now)
      throws SQLException {
    if (micros <= 0) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update spend_buckets set reserved_micros = greatest(0, reserved_micros - ?),"
                + " updated_at = ? where tenant_id = ? and bucket = any(?)")) {
      ps.setLong(1, micros);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, tenantId);
      ps.setArray(4, c.createArrayOf("text", r.buckets().toArray()));
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update spend_reservations set reserved_micros = greatest(committed_micros,"
                + " reserved_micros - ?), updated_at = ? where tenant_id = ? and reservation_id ="
                + " ?")) {
      ps.setLong(1, micros);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, tenantId);
      ps.setString(4, reservationId);
      ps.executeUpdate();
    }
  }

  /** How many alerts at {@code percent} this process raised (for the metrics registry). */
  public long alertsRaised(int percent) {
    LongAdder n = alertCounts.get(percent);
    return n == null ? 0 : n.sum();
  }

  private void count(List<Alert> raised) {
    for (Alert a : raised) {
      alertCounts.computeIfAbsent(a.percent(), k -> new LongAdder()).increment();
    }
  }

  @Override
  public void release(String tenantId, String reservationId, List<Charge> holds) {
    Instant now = clock.instant();
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          lock(c, tenantId, reservationId);
          Reservation r = reservation(c, tenantId, reservationId);
          if (r == null) {
            return null;
          }
          if (!holds.isEmpty()) {
            // A hold on work whose cost is committed already is over before it starts.
            try (PreparedStatement ps =
                c.prepareStatement(
                    "insert into spend_entries (tenant_id, at, kind, reservation_id, entry_key,"
                        + " campaign_id, agent, amount_micros) select ?, ?, 'hold', ?, k, ?, ?, a"
                        + " from unnest(?::text[], ?::bigint[]) as t(k, a) where not exists"
                        + " (select 1 from spend_entries e where e.tenant_id = ? and e.kind ="
                        + " 'commit' and e.reservation_id = ? and e.entry_key = t.k) on conflict do"
                        + " nothing")) {
              ps.setString(1, tenantId);
              ps.setTimestamp(2, Timestamp.from(now));
              ps.setString(3, reservationId);
              ps.setString(4, r.campaignId());
              ps.setString(5, r.agent());
              ps.setArray(6, c.createArrayOf("text", holds.stream().map(Charge::key).toArray()));
              ps.setArray(
                  7, c.createArrayOf("bigint", holds.stream().map(Charge::micros).toArray()));
              ps.setString(8, tenantId);
              ps.setString(9, reservationId);
              ps.executeUpdate();
            }
          }
          long unspent = r.reserved() - r.committed() - held(c, tenantId, reservationId);
          if (unspent <= 0) {
            return null;
          }
          giveBack(c, tenantId, reservationId, r, unspent, now);
          entry(
              c,
              tenantId,
              now,
              "release",
              reservationId,
              null,
              r.campaignId(),
              r.agent(),
              unspent,
              "{}");
          return null;
        });
  }

  /** What the reservation's holds keep: those not settled by their commit yet. */
  private static long held(Connection c, String tenantId, String reservationId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select coalesce(sum(h.amount_micros), 0) from spend_entries h where h.tenant_id = ?"
                + " and h.kind = 'hold' and h.reservation_id = ? and not exists (select 1 from"
                + " spend_entries s where s.tenant_id = h.tenant_id and s.kind = 'settle' and"
                + " s.reservation_id = h.reservation_id and s.entry_key = h.entry_key)")) {
      ps.setString(1, tenantId);
      ps.setString(2, reservationId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private record Reservation(
      List<String> buckets, String campaignId, String agent, long reserved, long committed) {}

  private static Reservation reservation(Connection c, String tenantId, String reservationId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select buckets, campaign_id, agent, reserved_micros, committed_micros from"
                + " spend_reservations where tenant_id = ? and reservation_id = ?")) {
      ps.setString(1, tenantId);
      ps.setString(2, reservationId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new Reservation(
            List.of((String[]) rs.getArray(1).getArray()),
            rs.getString(2),
            rs.getString(3),
            rs.getLong(4),
            rs.getLong(5));
      }
    }
  }

  /** Serializes the requests of one reservation (same tenant and id), to the transaction's end. */
  private static void lock(Connection c, String tenantId, String reservationId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select pg_advisory_xact_lock(hashtextextended(?, 7))")) {
      ps.setString(1, "spend|" + tenantId + "|" + reservationId);
      ps.execute();
    }
  }

  private static Optional<Grant> earlierGrant(
      Connection c, String tenantId, String reservationId, String requestKey) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select amount_micros, detail->>'exhausted' from spend_entries where tenant_id = ?"
                + " and kind = 'reserve' and reservation_id = ? and entry_key = ?")) {
      ps.setString(1, tenantId);
      ps.setString(2, reservationId);
      ps.setString(3, requestKey);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Grant(rs.getLong(1), Optional.ofNullable(rs.getString(2))))
            : Optional.empty();
      }
    }
  }

  /**
   * Creates the bucket if new, sets its limit to the current one, locks it, and answers its room
   * (limit minus spent and held; never below 0).
   */
  private static long lockBucket(Connection c, String tenantId, Budget b, Instant now)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into spend_buckets (tenant_id, bucket, limit_micros, updated_at) values (?, ?,"
                + " ?, ?) on conflict (tenant_id, bucket) do update set limit_micros ="
                + " excluded.limit_micros returning limit_micros - committed_micros -"
                + " reserved_micros")) {
      ps.setString(1, tenantId);
      ps.setString(2, b.bucket());
      ps.setLong(3, b.limitMicros());
      ps.setTimestamp(4, Timestamp.from(now));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return Math.max(0, rs.getLong(1));
      }
    }
  }

  private static Array buckets(Connection c, List<Budget> budgets) throws SQLException {
    return c.createArrayOf("text", budgets.stream().map(Budget::bucket).toArray());
  }

  /**
   * The alert thresholds a bucket crossed since its last alert, one alert each (a commit that jumps
   * from 40% to 85% says both 50% and 80%); 100% only if no reservation found the bucket used up
   * before (which said 100% then).
   */
  static void crossed(
      String bucket,
      long committed,
      long limit,
      int alertedPercent,
      boolean exhausted,
      java.util.function.Consumer<Alert> out) {
    for (int threshold : ALERTS) {
      // A zero limit is at 100% from the first cent spent (nothing should be).
      boolean reached = limit == 0 ? committed > 0 : committed * 100 >= (long) threshold * limit;
      boolean said = threshold <= alertedPercent || (threshold == 100 && exhausted);
      if (reached && !said) {
        out.accept(new Alert(bucket, threshold, committed, limit));
      }
    }
  }

  /**
   * A reservation the bucket could not cover in full: the budget is used up (spent or held) for
   * whatever comes next, which is its 100% alert even while a few cents are left unspent.
   */
  private static Optional<Alert> exhausted(
      Connection c, String tenantId, Instant now, String bucket, String campaignId, String agent)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select committed_micros, limit_micros from spend_buckets where tenant_id = ? and"
                + " bucket = ? and alerted_percent < 100 and not exhausted")) {
      ps.setString(1, tenantId);
      ps.setString(2, bucket);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Alert a = new Alert(bucket, 100, rs.getLong(1), rs.getLong(2));
        raise(c, tenantId, now, campaignId, agent, a, true);
        return Optional.of(a);
      }
    }
  }

  /** Records an alert: the bucket's mark, a ledger entry and an audit row. */
  private static void raise(
      Connection c,
      String tenantId,
      Instant now,
      String campaignId,
      String agent,
      Alert a,
      boolean exhausted)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            exhausted
                ? "update spend_buckets set exhausted = true where tenant_id = ? and bucket = ?"
                : "update spend_buckets set alerted_percent = greatest(alerted_percent, ?) where"
                    + " tenant_id = ? and bucket = ?")) {
      int i = 1;
      if (!exhausted) {
        ps.setInt(i++, a.percent());
      }
      ps.setString(i++, tenantId);
      ps.setString(i, a.bucket());
      ps.executeUpdate();
    }
    String detail =
        "{\"bucket\":\""
            + a.bucket()
            + "\",\"percent\":"
            + a.percent()
            + ",\"committedMicros\":"
            + a.committedMicros()
            + ",\"limitMicros\":"
            + a.limitMicros()
            + (exhausted ? ",\"exhausted\":true" : "")
            + "}";
    entry(c, tenantId, now, "alert", null, null, campaignId, agent, 0, detail);
    AuditRepository.insert(
        c,
        tenantId,
        now,
        "spend-ledger",
        "budget.alert",
        campaignId != null ? campaignId : a.bucket(),
        detail);
  }

  private static void entry(
      Connection c,
      String tenantId,
      Instant now,
      String kind,
      String reservationId,
      String key,
      String campaignId,
      String agent,
      long amount,
      String detail)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into spend_entries (tenant_id, at, kind, reservation_id, entry_key,"
                + " campaign_id, agent, amount_micros, detail) values (?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?::jsonb)")) {
      ps.setString(1, tenantId);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, kind);
      ps.setString(4, reservationId);
      ps.setString(5, key);
      ps.setString(6, campaignId);
      ps.setString(7, agent);
      ps.setLong(8, amount);
      ps.setString(9, detail);
      ps.executeUpdate();
    }
  }
}
