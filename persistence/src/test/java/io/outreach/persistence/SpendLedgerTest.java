package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.spend.SpendLedger.Alert;
import io.outreach.engine.spend.SpendLedger.Budget;
import io.outreach.engine.spend.SpendLedger.Charge;
import io.outreach.engine.spend.SpendLedger.Grant;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The spend ledger on real PostgreSQL: a reservation takes the smallest room of every budget it
 * falls under and names the one that bound it; requests and charges count once; a release gives
 * back what was not spent; alerts at 50, 80 and 100 percent; and many reservations racing for one
 * small budget never take more than it holds.
 */
class SpendLedgerTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static SpendRepository ledger() {
    return new SpendRepository(DB.database().tenantJdbc(), Clock.systemUTC());
  }

  private static long[] bucket(String tenant, String bucket) throws Exception {
    try (Connection c = DB.ownerConnection();
        PreparedStatement set = c.prepareStatement("select set_config('app.tenant_id', ?, false)");
        PreparedStatement ps =
            c.prepareStatement(
                "select limit_micros, committed_micros, reserved_micros from spend_buckets where"
                    + " bucket = ?")) {
      set.setString(1, tenant);
      set.execute();
      ps.setString(1, bucket);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("bucket %s exists", bucket).isTrue();
        return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
      }
    }
  }

  @Test
  void aReservationTakesTheSmallestRoomAndNamesTheBudgetThatBound() throws Exception {
    SpendRepository ledger = ledger();
    List<Budget> budgets =
        List.of(new Budget("tenant-month:2026-12", 10_000), new Budget("campaign:cmp_a", 3_000));
    Grant first = ledger.reserve("t1", "block-a", "plan", budgets, 2_000, "cmp_a", null);
    assertThat(first.grantedMicros()).isEqualTo(2_000);
    assertThat(first.exhausted()).isEmpty();
    assertThat(ledger.reserve("t1", "block-a", "plan", budgets, 2_000, "cmp_a", null))
        .as("the same request answers its first grant")
        .isEqualTo(first);
    Grant second = ledger.reserve("t1", "block-b", "plan", budgets, 2_000, "cmp_a", null);
    assertThat(second.grantedMicros()).isEqualTo(1_000);
    assertThat(second.exhausted()).contains("campaign:cmp_a");

    // Charges move money from held to spent, once each; a release gives back the rest.
    ledger.commit("t1", "block-a", List.of(new Charge("k1", 800), new Charge("k2", 700)));
    ledger.commit("t1", "block-a", List.of(new Charge("k1", 800)));
    assertThat(bucket("t1", "campaign:cmp_a")).containsExactly(3_000, 1_500, 1_500);
    ledger.release("t1", "block-a");
    ledger.release("t1", "block-a");
    assertThat(bucket("t1", "campaign:cmp_a")).containsExactly(3_000, 1_500, 1_000);
    assertThat(bucket("t1", "tenant-month:2026-12")).containsExactly(10_000, 1_500, 1_000);
    // The room freed by the release goes to the next request.
    assertThat(
            ledger.reserve("t1", "block-c", "plan", budgets, 5_000, "cmp_a", null).grantedMicros())
        .isEqualTo(500);
  }

  /**
   * A block released before its calls ended keeps what each call may cost until its final status
   * commits it: no other block can take that money, and the commit gives back what the call did not
   * use (also when it cost nothing); a hold on a call that ended before the release is over.
   */
  @Test
  void placedCallsKeepTheirHoldUntilTheirCostIsCommitted() throws Exception {
    SpendRepository ledger = ledger();
    List<Budget> budgets = List.of(new Budget("campaign:cmp_h", 1_000));
    assertThat(ledger.reserve("t5", "block-a", "plan", budgets, 900, "cmp_h", null).grantedMicros())
        .isEqualTo(900);
    // Three calls, 300 each at most; the first ended (100) before the block released.
    ledger.commit("t5", "block-a", List.of(new Charge("call:1", 100)));
    List<Charge> holds =
        List.of(new Charge("call:1", 300), new Charge("call:2", 300), new Charge("call:3", 300));
    ledger.release("t5", "block-a", holds);
    ledger.release("t5", "block-a", holds);
    assertThat(bucket("t5", "campaign:cmp_h")).containsExactly(1_000, 100, 600);
    assertThat(ledger.reserve("t5", "block-b", "plan", budgets, 900, "cmp_h", null).grantedMicros())
        .as("what the live calls may cost is not free for another block")
        .isEqualTo(300);
    ledger.release("t5", "block-b");
    // The calls end: one ran to its limit, one was not answered; each gives back its rest once.
    ledger.commit("t5", "block-a", List.of(new Charge("call:2", 300)));
    ledger.commit("t5", "block-a", List.of(new Charge("call:3", 0)));
    ledger.commit("t5", "block-a", List.of(new Charge("call:3", 0)));
    assertThat(bucket("t5", "campaign:cmp_h")).containsExactly(1_000, 400, 0);
    ledger.release("t5", "block-a", holds);
    assertThat(bucket("t5", "campaign:cmp_h")).containsExactly(1_000, 400, 0);
  }

  @Test
  void alertsAt50And80And100PercentOnceEach() throws Exception {
    SpendRepository ledger = ledger();
    List<Budget> budgets = List.of(new Budget("campaign:cmp_b", 1_000));
    ledger.reserve("t2", "block-a", "plan", budgets, 1_000, "cmp_b", null);
    assertThat(ledger.commit("t2", "block-a", List.of(new Charge("a", 400)))).isEmpty();
    assertThat(ledger.commit("t2", "block-a", List.of(new Charge("b", 450))))
        .as("a commit that jumps from 40% to 85% says 50% and 80%")
        .extracting(Alert::percent)
        .containsExactly(50, 80);
    assertThat(ledger.commit("t2", "block-a", List.of(new Charge("c", 100)))).isEmpty();
    assertThat(ledger.commit("t2", "block-a", List.of(new Charge("d", 50))))
        .extracting(Alert::percent)
        .containsExactly(100);
    assertThat(bucket("t2", "campaign:cmp_b")[1]).isEqualTo(1_000);
    assertThat(ledger.alertsRaised(50)).isEqualTo(1);
    assertThat(ledger.alertsRaised(100)).isEqualTo(1);
  }

  @Test
  void aReservationTheBudgetCannotCoverRaisesThe100PercentAlertOnce() throws Exception {
    SpendRepository ledger = ledger();
    List<Budget> budgets = List.of(new Budget("campaign:cmp_x", 1_000));
    ledger.reserve("t4", "block-a", "plan", budgets, 990, "cmp_x", null);
    assertThat(ledger.commit("t4", "block-a", List.of(new Charge("a", 990))))
        .extracting(Alert::percent)
        .containsExactly(50, 80);
    // 10 micro-dollars are left, not enough for what comes next: the budget is used up.
    assertThat(ledger.reserve("t4", "block-b", "plan", budgets, 500, "cmp_x", null).exhausted())
        .contains("campaign:cmp_x");
    ledger.reserve("t4", "block-c", "plan", budgets, 500, "cmp_x", null);
    assertThat(ledger.alertsRaised(100)).isEqualTo(1);
    try (Connection c = DB.ownerConnection();
        PreparedStatement set =
            c.prepareStatement("select set_config('app.tenant_id', 't4', false)");
        PreparedStatement ps =
            c.prepareStatement(
                "select detail->>'percent', detail->>'exhausted' from spend_entries where"
                    + " kind = 'alert' order by id")) {
      set.execute();
      ResultSet rs = ps.executeQuery();
      List<String> rows = new java.util.ArrayList<>();
      while (rs.next()) {
        rows.add(rs.getString(1) + "/" + rs.getString(2));
      }
      assertThat(rows).containsExactly("50/null", "80/null", "100/true");
    }
  }

  @Test
  void aZeroBudgetGrantsNothing() {
    Grant g =
        ledger()
            .reserve(
                "t3",
                "block-a",
                "plan",
                List.of(new Budget("tenant-month:2026-12", 0)),
                1,
                null,
                null);
    assertThat(g.grantedMicros()).isZero();
    assertThat(g.exhausted()).contains("tenant-month:2026-12");
  }

  @Test
  void manyReservationsRacingForOneSmallBudgetNeverTakeMoreThanItHolds() throws Exception {
    SpendRepository ledger = ledger();
    long limit = 25_000;
    List<Budget> budgets =
        List.of(new Budget("tenant-month:2026-12", limit), new Budget("campaign:cmp_r", 1_000_000));
    AtomicLong granted = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        String block = "block-" + i;
        all.add(
            CompletableFuture.runAsync(
                () -> {
                  Grant g = ledger.reserve("t4", block, "plan", budgets, 1_000, "cmp_r", null);
                  granted.addAndGet(g.grantedMicros());
                  if (g.grantedMicros() > 0) {
                    ledger.commit(
                        "t4", block, List.of(new Charge(block + ":0", g.grantedMicros())));
                  }
                  ledger.release("t4", block);
                },
                pool));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    } finally {
      pool.shutdown();
    }
    long[] month = bucket("t4", "tenant-month:2026-12");
    assertThat(granted.get()).isEqualTo(limit);
    assertThat(month[1]).as("spent").isEqualTo(limit);
    assertThat(month[2]).as("nothing left held").isZero();
  }
}
