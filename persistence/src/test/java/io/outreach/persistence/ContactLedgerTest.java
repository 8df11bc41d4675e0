package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactLedger.Candidate;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.Purpose;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The person ledger on real PostgreSQL: the gate's send-time decision on the person's stored facts,
 * caps counted across campaigns, a resend counted once, and exactness when several reservations for
 * the same person race.
 */
class ContactLedgerTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  /** 16:00 UTC = 11:00 in New York: inside the legal hours. */
  private static final Instant NOON = Instant.parse("2026-11-25T16:00:00Z");

  private static final ContactRules RULES = ContactRules.defaults();

  private static Contact campaign(String tenant, String campaign, String phone) {
    return new Contact(
        tenant,
        campaign,
        null,
        Channel.SMS,
        phone,
        List.of(ZoneId.of("America/New_York")),
        "NY",
        null,
        Purpose.CAMPAIGN,
        null);
  }

  private static Candidate candidate(String tenant, String campaign, String phone, int recipient) {
    return new Candidate(
        campaign(tenant, campaign, phone), campaign + ":" + recipient + ":0", "+15550100001");
  }

  private ContactLedgerRepository ledger() {
    return new ContactLedgerRepository(DB.database().tenantJdbc());
  }

  private static long ledgerRows(String tenant, String phone) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("select count(*) from contact_ledger where phone = ?")) {
                ps.setString(1, phone);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  @Test
  void theDailyCapHoldsAcrossCampaignsAndAResendIsTheSameContact() {
    List<String> dispatched = new ArrayList<>();
    var first =
        ledger()
            .reserve(
                "t1",
                List.of(candidate("t1", "cmp_a", "+12125550100", 0)),
                RULES,
                List.of(),
                NOON,
                c -> dispatched.add(c.key()));
    assertThat(first).containsExactly(Decision.ALLOW);
    var other =
        ledger()
            .reserve(
                "t1",
                List.of(candidate("t1", "cmp_b", "+12125550100", 7)),
                RULES,
                List.of(),
                NOON.plusSeconds(60),
                c -> dispatched.add(c.key()));
    // The cap spaces the second campaign's contact out to a day after the first.
    assertThat(other)
        .containsExactly(
            new Decision.Defer(NOON.plus(Duration.ofHours(24)), "frequency:tenant:1/24h"));
    // After a crash the same key is tried again: not counted against itself, recorded once.
    var resend =
        ledger()
            .reserve(
                "t1",
                List.of(candidate("t1", "cmp_a", "+12125550100", 0)),
                RULES,
                List.of(),
                NOON.plusSeconds(120),
                c -> dispatched.add(c.key()));
    assertThat(resend).containsExactly(Decision.ALLOW);
    assertThat(dispatched).containsExactly("cmp_a:0:0", "cmp_a:0:0");
    assertThat(ledgerRows("t1", "+12125550100")).isEqualTo(1);
    // A day later the cap allows one more; the other tenant's ledger is its own.
    assertThat(
            ledger()
                .reserve(
                    "t1",
                    List.of(candidate("t1", "cmp_b", "+12125550100", 7)),
                    RULES,
                    List.of(),
                    NOON.plus(Duration.ofHours(25)),
                    c -> {}))
        .containsExactly(Decision.ALLOW);
    assertThat(
            ledger()
                .reserve(
                    "t2",
                    List.of(candidate("t2", "cmp_c", "+12125550100", 0)),
                    RULES,
                    List.of(),
                    NOON,
                    c -> {}))
        .containsExactly(Decision.ALLOW);
  }

  @Test
  void storedOptOutsAndDoNotContactEntriesBlockAtSendTime() {
    DB.database()
        .tenantJdbc()
        .inTenant(
            "t3",
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into opt_outs (tenant_id, phone, opted_out_at, source) values ('t3', '+12125550111', now(), 'keyword')")) {
                ps.executeUpdate();
              }
              return null;
            });
    new DncRepository(DB.database().tenantJdbc(), DB.database().dataSource())
        .add("t3", List.of("+12125550112"), "asked", "api");
    List<String> dispatched = new ArrayList<>();
    var decisions =
        ledger()
            .reserve(
                "t3",
                List.of(
                    candidate("t3", "cmp_d", "+12125550111", 0),
                    candidate("t3", "cmp_d", "+12125550112", 1),
                    candidate("t3", "cmp_d", "+12125550113", 2)),
                RULES,
                List.of(),
                NOON,
                c -> dispatched.add(c.key()));
    assertThat(decisions.get(0)).isEqualTo(new Decision.Block(BlockReason.OPT_OUT, "opt-out"));
    assertThat(decisions.get(1)).isEqualTo(new Decision.Block(BlockReason.DNC, "dnc:tenant"));
    assertThat(decisions.get(2)).isEqualTo(Decision.ALLOW);
    assertThat(dispatched).containsExactly("cmp_d:2:0");
  }

  @Test
  void outsideTheLegalHoursTheContactIsDeferredAndNotRecorded() {
    Instant lateEvening = Instant.parse("2026-11-26T02:30:00Z"); // 21:30 in New York
    var d =
        ledger()
            .reserve(
                "t4",
                List.of(candidate("t4", "cmp_e", "+12125550120", 0)),
                RULES,
                List.of(),
                lateEvening,
                c -> {});
    assertThat(d.get(0))
        .isEqualTo(new Decision.Defer(Instant.parse("2026-11-26T13:00:00Z"), "hours:federal"));
    assertThat(ledgerRows("t4", "+12125550120")).isZero();
  }

  @Test
  void aReplyStopsAFollowUp() {
    DB.database()
        .tenantJdbc()
        .inTenant(
            "t5",
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into webhook_receipts (tenant_id, provider, dedup_key, kind, received_at, payload, phone)"
                          + " values ('t5', 'twilio', 'SM1', 'inbound', ?, '{}', '+12125550130')")) {
                ps.setTimestamp(1, java.sql.Timestamp.from(NOON.minus(Duration.ofHours(1))));
                ps.executeUpdate();
              }
              return null;
            });
    Contact followUp =
        new Contact(
            "t5",
            "cmp_f",
            null,
            Channel.SMS,
            "+12125550130",
            List.of(ZoneId.of("America/New_York")),
            "NY",
            null,
            Purpose.FOLLOW_UP,
            NOON.minus(Duration.ofDays(2)));
    var d =
        ledger()
            .reserve(
                "t5",
                List.of(new Candidate(followUp, "cmp_f:0:1", "+15550100001")),
                RULES,
                List.of(),
                NOON,
                c -> {});
    assertThat(d.get(0)).isEqualTo(new Decision.Block(BlockReason.REPLIED, "stop-on-reply"));
  }

  @Test
  void racingReservationsForOnePersonAllowExactlyOne() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    AtomicInteger calls = new AtomicInteger();
    try {
      List<Future<Decision>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String campaign = "cmp_race" + i;
        Callable<Decision> reserve =
            () ->
                ledger()
                    .reserve(
                        "t6",
                        List.of(candidate("t6", campaign, "+12125550140", 0)),
                        RULES,
                        List.of(),
                        NOON,
                        c -> calls.incrementAndGet())
                    .get(0);
        results.add(pool.submit(reserve));
      }
      long allowed = 0;
      for (Future<Decision> f : results) {
        allowed += f.get() instanceof Decision.Allow ? 1 : 0;
      }
      assertThat(allowed).isEqualTo(1);
      assertThat(calls).hasValue(1);
      assertThat(ledgerRows("t6", "+12125550140")).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
