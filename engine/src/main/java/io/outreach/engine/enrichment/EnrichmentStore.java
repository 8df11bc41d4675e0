package io.outreach.engine.enrichment;

import io.outreach.engine.review.Review;
import io.outreach.engine.spend.SpendLedger;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Where LUCI's jobs, their leads and the tenant's enrichment cache are kept (PostgreSQL, in {@code
 * persistence}). Every write of a job is one transaction with what it implies (its leads, its
 * review, the leads filled and cached, the audit), and jobs with work left keep the tenant's {@code
 * Luci} marker for a restart. Blocking calls: run them off actor and HTTP threads.
 */
public interface EnrichmentStore {

  /** The price of a new job and its review (null: it needs none), from its leads' counts. */
  record JobTerms(long estimateMicros, Review.Request review) {}

  /** Prices a new job once its leads are known: how many, and how many the cache does not hold. */
  @FunctionalInterface
  interface Terms {
    JobTerms of(int leads, int uncached);
  }

  /** A lead to ask the provider about, in job order. */
  record Pending(int seq, UUID leadId, PersonQuery query) {}

  /**
   * The next provider call of a job: {@code batchNo} (1, 2, ...: its charge's key), the leads to
   * send ({@code toCall}, at most the limit asked for; cache hits and skipped leads before them are
   * already written); {@code needsCall}: a lead needed a call the limit did not allow; {@code
   * more}: pending leads remain after these.
   */
  record Batch(int batchNo, List<Pending> toCall, boolean needsCall, boolean more) {}

  /** The job to run next (if any), and jobs a decided review rejected meanwhile. */
  record Next(Optional<EnrichmentView> run, List<String> rejected) {}

  /**
   * Accepts a job: copies its leads in (in lead order), counts those the cache holds since {@code
   * cachedSince}, prices it with {@code terms}, stores it (queued, or awaiting approval with its
   * review) with the tenant's marker and an audit entry.
   *
   * @throws io.outreach.engine.Refused invalid (a lead id the tenant does not have, an unknown
   *     import, no leads) or conflict (the import is not completed)
   */
  EnrichmentView create(
      String tenantId,
      String jobId,
      JobSource source,
      String actor,
      Instant cachedSince,
      Instant now,
      Terms terms);

  Optional<EnrichmentView> view(String tenantId, String jobId);

  /** Its review was approved: an awaiting job is queued. False if it was not awaiting approval. */
  boolean approve(String tenantId, String jobId, String actor, Instant now);

  /** Its review was rejected: an awaiting job ends {@code rejected}, no call made. */
  boolean reject(String tenantId, String jobId, String actor, Instant now);

  /**
   * The oldest queued or running job, marked running; first applies decided reviews a crash may
   * have left unapplied.
   */
  Next next(String tenantId, Instant now);

  /**
   * Walks the job's pending leads in order: answers cache hits (since {@code cachedSince}) and
   * skips what cannot be matched, writing both, until {@code maxCalls} leads need the provider.
   */
  Batch prepare(String tenantId, String jobId, int maxCalls, Instant cachedSince, Instant now);

  /**
   * Writes a provider call's answer once (a repeat of {@code batchNo} changes nothing): fills the
   * leads' empty fields with what was found, caches every answer, counts the outcomes, the credits
   * and the cost.
   */
  void apply(
      String tenantId,
      String jobId,
      Batch batch,
      List<EnrichedPerson> found,
      BigDecimal credits,
      long costMicros,
      Instant now);

  /** The charges of the job's written calls (key: job id and batch number), to commit again. */
  List<SpendLedger.Charge> charges(String tenantId, String jobId);

  /** Records what holds the job now (null: nothing). */
  void held(String tenantId, String jobId, String heldBy);

  /** Ends a running job (completed, or failed with a reason), audited as LUCI's. */
  void finish(
      String tenantId,
      String jobId,
      EnrichmentView.Status status,
      String reason,
      String detail,
      Instant now);

  /** Removes the tenant's marker if no job is left unfinished. */
  void settle(String tenantId);

  /** Audits that a campaign was drafted from the job's enriched leads. */
  void campaignDrafted(String tenantId, String jobId, String campaignId, String actor, Instant now);
}
