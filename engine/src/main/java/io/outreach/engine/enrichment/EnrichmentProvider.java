package io.outreach.engine.enrichment;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The enrichment provider as LUCI calls it (Apollo's People Enrichment, implemented over HTTP in
 * {@code http}): one bulk match of at most {@link #MAX_PER_CALL} people with the tenant's own
 * account (in sandbox mode, the twin's test key when it has none). Never fails: every outcome is a
 * {@link BulkMatch}.
 */
public interface EnrichmentProvider {
  /** The provider's name (accounts, prices, throttles, the sandbox log). */
  String APOLLO = "apollo";

  /** Apollo's bulk match takes at most 10 people per call. */
  int MAX_PER_CALL = 10;

  CompletionStage<BulkMatch> bulkMatch(String tenantId, List<PersonQuery> people);
}
