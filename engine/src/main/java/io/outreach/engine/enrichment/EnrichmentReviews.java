package io.outreach.engine.enrichment;

import io.outreach.engine.review.Review;
import io.outreach.engine.review.ReviewKind;
import io.outreach.engine.spend.SpendLedger;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Review kind {@code enrichment}: an enrichment whose estimate exceeded the tenant's approval
 * threshold. Approving queues the job and wakes the tenant's {@link Luci}; rejecting ends it {@code
 * rejected} and releases its reservation, without any provider call. A draft edited by the human
 * changes nothing here (the job is what it is). If a crash comes between the decision and this,
 * Luci applies the decision the next time it looks for work.
 */
public final class EnrichmentReviews implements ReviewKind {
  private final EnrichmentStore store;
  private final SpendLedger ledger;
  private final ClusterSharding sharding;
  private final Executor blocking;
  private final Clock clock;

  public EnrichmentReviews(
      EnrichmentStore store,
      SpendLedger ledger,
      ClusterSharding sharding,
      Executor blocking,
      Clock clock) {
    this.store = store;
    this.ledger = ledger;
    this.sharding = sharding;
    this.blocking = blocking;
    this.clock = clock;
  }

  @Override
  public String kind() {
    return Luci.REVIEW_KIND;
  }

  @Override
  public CompletionStage<Void> approved(String tenantId, Review review) {
    return CompletableFuture.runAsync(
            () -> store.approve(tenantId, review.subject(), review.decidedBy(), clock.instant()),
            blocking)
        .thenRun(
            () -> sharding.entityRefFor(Luci.ENTITY_TYPE_KEY, tenantId).tell(Luci.Wake.INSTANCE));
  }

  @Override
  public CompletionStage<Void> rejected(String tenantId, Review review) {
    return CompletableFuture.runAsync(
        () -> {
          store.reject(tenantId, review.subject(), review.decidedBy(), clock.instant());
          ledger.release(tenantId, review.subject());
        },
        blocking);
  }
}
