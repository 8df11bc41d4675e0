package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.spend.SpendLedger.Budget;
import io.outreach.engine.spend.SpendLedger.Charge;
import io.outreach.engine.spend.SpendLedger.Grant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * For any interleaving of reservations, commits and releases by several blocks and agents under
 * shared budgets (as callers make them: a commit never charges more than its reservation was
 * granted and has not spent), spent never exceeds any budget, and spent plus held never does.
 */
class SpendLedgerProperties {
  private static Path dataDir;
  private static Database database;
  private static final AtomicInteger TENANTS = new AtomicInteger();

  @BeforeContainer
  static void start() throws IOException {
    dataDir = Files.createTempDirectory("outreach-spend-prop");
    database = Database.open(DatabaseConfig.embedded(dataDir, 4));
  }

  @AfterContainer
  static void stop() {
    database.close();
    EmbeddedDatabaseExtension.deleteRecursively(dataDir);
  }

  /** One step of a caller: which reservation, what it does, and how much. */
  record Op(int reservation, int kind, long amount) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 2),
                Arbitraries.longs().between(0, 6_000))
            .as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(25);
  }

  @Property(tries = 60)
  void spentNeverExceedsABudget(
      @ForAll("ops") List<Op> ops,
      @ForAll("limits") long monthLimit,
      @ForAll("limits") long campaignLimit,
      @ForAll("limits") long agentLimit)
      throws Exception {
    String tenant = "p" + TENANTS.incrementAndGet();
    SpendRepository ledger = new SpendRepository(database.tenantJdbc(), Clock.systemUTC());
    // Reservations 0-2 are blocks of one campaign, 3-4 an agent's jobs; all under the month.
    Map<String, Long> limits =
        Map.of(
            "tenant-month:x",
            monthLimit,
            "campaign:c",
            campaignLimit,
            "agent-day:luci:x",
            agentLimit);
    Map<Integer, Long> unspent = new HashMap<>();
    int step = 0;
    for (Op op : ops) {
      String id = "r" + op.reservation();
      boolean agent = op.reservation() >= 3;
      List<Budget> budgets =
          List.of(
              new Budget("tenant-month:x", monthLimit),
              agent
                  ? new Budget("agent-day:luci:x", agentLimit)
                  : new Budget("campaign:c", campaignLimit));
      switch (op.kind()) {
        case 0 -> {
          Grant g =
              ledger.reserve(
                  tenant,
                  id,
                  "q" + step,
                  budgets,
                  op.amount(),
                  agent ? null : "c",
                  agent ? "luci" : null);
          assertThat(g.grantedMicros()).isBetween(0L, op.amount());
          unspent.merge(op.reservation(), g.grantedMicros(), Long::sum);
        }
        case 1 -> {
          long charge = Math.min(op.amount(), unspent.getOrDefault(op.reservation(), 0L));
          if (charge > 0) {
            ledger.commit(tenant, id, List.of(new Charge("k" + step, charge)));
            unspent.merge(op.reservation(), -charge, Long::sum);
          }
        }
        default -> {
          ledger.release(tenant, id);
          unspent.put(op.reservation(), 0L);
        }
      }
      step++;
      for (Map.Entry<String, Long> b : limits.entrySet()) {
        long[] row = bucket(tenant, b.getKey());
        if (row != null) {
          assertThat(row[0]).as("%s spent", b.getKey()).isLessThanOrEqualTo(b.getValue());
          assertThat(row[0] + row[1])
              .as("%s spent + held", b.getKey())
              .isLessThanOrEqualTo(b.getValue());
          assertThat(row[1]).as("%s held", b.getKey()).isNotNegative();
        }
      }
    }
  }

  @Provide
  Arbitrary<Long> limits() {
    return Arbitraries.longs().between(0, 20_000);
  }

  /** {committed, reserved} of a bucket, or null when it does not exist yet. */
  private static long[] bucket(String tenant, String bucket) throws Exception {
    try (Connection c =
            DriverManager.getConnection(database.jdbcUrl(), Database.EMBEDDED_OWNER, "");
        PreparedStatement set = c.prepareStatement("select set_config('app.tenant_id', ?, false)");
        PreparedStatement ps =
            c.prepareStatement(
                "select committed_micros, reserved_micros from spend_buckets where bucket = ?")) {
      set.setString(1, tenant);
      set.execute();
      ps.setString(1, bucket);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : null;
      }
    }
  }
}
