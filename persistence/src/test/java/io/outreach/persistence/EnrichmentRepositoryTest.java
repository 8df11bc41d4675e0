package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.outreach.engine.Refused;
import io.outreach.engine.Rejection;
import io.outreach.engine.enrichment.EnrichedPerson;
import io.outreach.engine.enrichment.EnrichmentStore;
import io.outreach.engine.enrichment.EnrichmentView;
import io.outreach.engine.enrichment.JobSource;
import io.outreach.engine.review.Review;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * LUCI's rows in PostgreSQL: a job's leads and estimate in one transaction with its review and
 * marker; the cache answers a lead within the TTL and not after it; an answer fills only empty
 * fields and counts once; another tenant's leads and jobs are not there; a review is decided once.
 */
class EnrichmentRepositoryTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
  private static final EnrichedPerson ANN =
      new EnrichedPerson(
          "p1",
          "Ann",
          "Lee",
          "ann.lee@acme.example",
          "verified",
          "VP of Sales",
          "Acme",
          "acme.example",
          "Austin",
          "TX",
          "United States",
          "http://www.linkedin.com/in/ann-lee");

  private final EnrichmentRepository store = new EnrichmentRepository(DB.database().tenantJdbc());
  private final ReviewRepository reviews = new ReviewRepository(DB.database().tenantJdbc());

  private UUID lead(String tenant, String phone, String email, String firstName, String company) {
    UUID id = UUID.randomUUID();
    DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "insert into leads (tenant_id, lead_id, phone, email, first_name, company,"
                          + " timezones, created_at, updated_at) values (?, ?, ?, ?, ?, ?,"
                          + " '{America/New_York}', now(), now())")) {
                ps.setString(1, tenant);
                ps.setObject(2, id);
                ps.setString(3, phone);
                ps.setString(4, email);
                ps.setString(5, firstName);
                ps.setString(6, company);
                return ps.executeUpdate();
              }
            });
    return id;
  }

  private EnrichmentView create(String tenant, String jobId, List<UUID> leads, Instant since) {
    return store.create(
        tenant,
        jobId,
        JobSource.leads(leads),
        "ops",
        since,
        NOW,
        (n, uncached) -> new EnrichmentStore.JobTerms(uncached * 180_000L, null));
  }

  @Test
  void anAnswerFillsOnlyEmptyFieldsAndTheCacheAnswersWithinTheTtlOnly() {
    UUID filled = lead("t1", "+12125550101", "ann.lee@acme.example", null, null);
    UUID kept = lead("t1", "+12125550102", "bo@own.example", "Bo", "OwnCo");
    UUID unmatchable = lead("t1", "+12125550103", null, "Cy", null);
    EnrichmentView job =
        create("t1", "enr_a", List.of(filled, kept, unmatchable), NOW.minus(Duration.ofDays(90)));
    assertThat(job.status()).isEqualTo(EnrichmentView.Status.QUEUED);
    assertThat(job.uncached()).as("the unmatchable lead costs nothing").isEqualTo(2);
    assertThat(job.estimateMicros()).isEqualTo(360_000);
    assertThat(markers("t1")).isEqualTo(1);

    assertThat(store.next("t1", NOW).run()).map(EnrichmentView::id).hasValue("enr_a");
    EnrichmentStore.Batch batch =
        store.prepare("t1", "enr_a", 10, NOW.minus(Duration.ofDays(90)), NOW);
    assertThat(batch.batchNo()).isEqualTo(1);
    assertThat(batch.toCall())
        .extracting(EnrichmentStore.Pending::leadId)
        .containsExactly(filled, kept);
    store.apply("t1", "enr_a", batch, Arrays.asList(ANN, ANN), new BigDecimal("2"), 40_000, NOW);
    store.apply("t1", "enr_a", batch, Arrays.asList(ANN, ANN), new BigDecimal("2"), 40_000, NOW);
    EnrichmentView after = store.view("t1", "enr_a").orElseThrow();
    assertThat(after.matched()).as("a repeat counts once").isEqualTo(2);
    assertThat(after.skipped()).isEqualTo(1);
    assertThat(after.costMicros()).isEqualTo(40_000);
    assertThat(store.charges("t1", "enr_a"))
        .containsExactly(new io.outreach.engine.spend.SpendLedger.Charge("enr_a:1", 40_000));
    assertThat(fields("t1", filled))
        .containsExactly("ann.lee@acme.example", "Ann", "Acme", "Austin", "VP of Sales");
    assertThat(fields("t1", kept))
        .as("its own values win")
        .containsExactly("bo@own.example", "Bo", "OwnCo", "Austin", "VP of Sales");

    EnrichmentStore.Batch last =
        store.prepare("t1", "enr_a", 10, NOW.minus(Duration.ofDays(90)), NOW);
    assertThat(last.toCall()).isEmpty();
    assertThat(last.more()).isFalse();
    store.finish("t1", "enr_a", EnrichmentView.Status.COMPLETED, null, null, NOW);
    store.settle("t1");
    assertThat(markers("t1")).isZero();

    // Within the TTL: no call, no cost. After it: asked again.
    EnrichmentView again =
        create("t1", "enr_b", List.of(filled, kept), NOW.minus(Duration.ofDays(90)));
    assertThat(again.uncached()).isZero();
    assertThat(again.estimateMicros()).isZero();
    store.next("t1", NOW);
    EnrichmentStore.Batch cached =
        store.prepare("t1", "enr_b", 10, NOW.minus(Duration.ofDays(90)), NOW);
    assertThat(cached.toCall()).isEmpty();
    assertThat(store.view("t1", "enr_b").orElseThrow().cached()).isEqualTo(2);
    store.finish("t1", "enr_b", EnrichmentView.Status.COMPLETED, null, null, NOW);

    Instant ttlLater = NOW.plus(Duration.ofDays(1));
    EnrichmentView stale = create("t1", "enr_c", List.of(filled, kept), ttlLater);
    assertThat(stale.uncached()).as("enriched before the TTL's start").isEqualTo(2);
    store.next("t1", NOW);
    assertThat(store.prepare("t1", "enr_c", 1, ttlLater, NOW).toCall()).hasSize(1);
    EnrichmentStore.Batch none = store.prepare("t1", "enr_c", 0, ttlLater, NOW);
    assertThat(none.needsCall()).as("nothing left to call with: the budget stops it").isTrue();
  }

  @Test
  void anotherTenantsLeadsAndJobsAreNotThere() {
    UUID theirs = lead("t2", "+12125550201", "x@t2.example", null, null);
    create("t2", "enr_t2", List.of(theirs), NOW);
    assertThat(store.view("t3", "enr_t2")).isEmpty();
    assertThatThrownBy(() -> create("t3", "enr_t3", List.of(theirs), NOW))
        .isInstanceOf(Refused.class)
        .satisfies(
            e -> assertThat(((Refused) e).rejection().kind()).isEqualTo(Rejection.Kind.INVALID))
        .hasMessageContaining("do not exist");
    assertThat(store.view("t3", "enr_t3")).as("nothing half-applied").isEmpty();
    assertThat(markers("t3")).isZero();
  }

  @Test
  void aJobAboveTheThresholdWaitsWithItsReviewWhichIsDecidedOnce() {
    UUID l = lead("t4", "+12125550401", "r@t4.example", null, null);
    EnrichmentView job =
        store.create(
            "t4",
            "enr_r",
            JobSource.leads(List.of(l)),
            "ops",
            NOW,
            NOW,
            (n, uncached) ->
                new EnrichmentStore.JobTerms(
                    180_000,
                    new Review.Request(
                        "rev_r", "enrichment", "enr_r", "LUCI: 1 lead", Map.of("leads", 1))));
    assertThat(job.status()).isEqualTo(EnrichmentView.Status.AWAITING_APPROVAL);
    assertThat(job.reviewId()).isEqualTo("rev_r");
    assertThat(store.next("t4", NOW).run()).as("it waits").isEmpty();
    assertThat(reviews.page("t4", java.util.Optional.of(Review.Status.PENDING), 0, 10))
        .extracting(Review::subject)
        .containsExactly("enr_r");
    assertThat(reviews.get("t5", "rev_r")).as("another tenant's").isEmpty();

    Review decided = reviews.decide("t4", "rev_r", false, "alice", null, "no", NOW);
    assertThat(decided.status()).isEqualTo(Review.Status.REJECTED);
    assertThat(decided.decidedBy()).isEqualTo("alice");
    assertThatThrownBy(() -> reviews.decide("t4", "rev_r", true, "bob", null, null, NOW))
        .isInstanceOf(Refused.class)
        .hasMessageContaining("already rejected by alice");
    assertThatThrownBy(() -> reviews.decide("t4", "rev_x", true, "bob", null, null, NOW))
        .isInstanceOf(Refused.class)
        .hasMessageContaining("does not exist");

    // The decision applies itself when LUCI next looks for work, had the kind not acted.
    EnrichmentStore.Next next = store.next("t4", NOW);
    assertThat(next.rejected()).containsExactly("enr_r");
    assertThat(store.view("t4", "enr_r").orElseThrow().status())
        .isEqualTo(EnrichmentView.Status.REJECTED);
    store.settle("t4");
    assertThat(markers("t4")).isZero();
  }

  private static int markers(String tenant) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "select count(*) from resumable_work where entity_type = 'Luci' and"
                          + " entity_id = ?")) {
                ps.setString(1, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getInt(1);
                }
              }
            });
  }

  /** Email, first name, company, city and the title attribute of a lead. */
  private static List<String> fields(String tenant, UUID lead) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "select email, first_name, company, city, attributes->>'title' from leads"
                          + " where lead_id = ?")) {
                ps.setObject(1, lead);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  List<String> out = new ArrayList<>();
                  for (int i = 1; i <= 5; i++) {
                    out.add(rs.getString(i));
                  }
                  return out;
                }
              }
            });
  }
}
