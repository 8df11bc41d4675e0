package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignView;
import io.outreach.engine.enrichment.EnrichmentProvider;
import io.outreach.engine.enrichment.EnrichmentStore;
import io.outreach.engine.enrichment.EnrichmentView;
import io.outreach.engine.enrichment.JobSource;
import io.outreach.engine.enrichment.Luci;
import io.outreach.engine.spend.Prices;
import io.outreach.http.provider.TenantAccounts;
import io.outreach.persistence.CampaignReadModel;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * LUCI's enrichments: {@code POST /v1/enrichments} ({@code {"leadIds": [...]}} or {@code
 * {"importId": "..."}}) accepts a job and answers 202 with its id (it runs, or waits in the review
 * queue when its estimate exceeds the tenant's approval threshold); {@code GET
 * /v1/enrichments/{id}} reports it; {@code POST /v1/enrichments/{id}/draft-campaign} creates a
 * draft campaign (the usual campaign, in state {@code draft}: only a human launches it) whose
 * audience is the leads the enrichment enriched.
 */
public final class EnrichmentRoutes extends ApiDirectives {
  private static final Pattern JOB_ID = Pattern.compile("enr_[0-9a-f]{20}");

  /**
   * How long a submission may take: it copies the job's leads in (a whole import's) and counts
   * those the cache holds, in one transaction; within the server's request timeout (30 s).
   */
  static final Duration SUBMIT_TIMEOUT = Duration.ofSeconds(25);

  /** The message a drafted campaign starts with; the human edits it before launching. */
  static final String DRAFT_MESSAGE =
      "Hi {{#first_name}}{{first_name}}{{/first_name}}{{^first_name}}there{{/first_name}}, we help"
          + " teams like {{#company}}{{company}}{{/company}}{{^company}}yours{{/company}} reach"
          + " more customers. Interested in a quick chat?";

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final EnrichmentStore store;
  private final TenantAccounts accounts;
  private final boolean production;
  private final int maxLeadIds;
  private final Clock clock;

  public EnrichmentRoutes(
      ActorSystem<?> system,
      JwtAuth auth,
      long maxBodyBytes,
      Duration askTimeout,
      EnrichmentStore store,
      TenantAccounts accounts,
      boolean production,
      int maxLeadIds,
      Clock clock) {
    super(system, auth, maxBodyBytes);
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.store = store;
    this.accounts = accounts;
    this.production = production;
    this.maxLeadIds = maxLeadIds;
    this.clock = clock;
  }

  /** Body of {@code POST /v1/enrichments}: one of the two. */
  public record CreateEnrichment(List<String> leadIds, String importId) {}

  /** Answer of {@code POST /v1/enrichments}. */
  public record Accepted(String id, String status) {}

  /** Optional body of {@code POST /v1/enrichments/{id}/draft-campaign}: the draft's own choices. */
  public record DraftCampaign(String name, String message, String provider, Long budgetCents) {}

  /** An enrichment as the API shows it. */
  public record EnrichmentBody(
      String id,
      String status,
      Map<String, Integer> counts,
      BigDecimal creditsUsed,
      long costCents,
      long estimatedCostCents,
      String importId,
      String reviewId,
      String heldBy,
      String reason,
      String detail,
      String createdBy,
      Instant createdAt,
      Instant startedAt,
      Instant finishedAt) {

    static EnrichmentBody of(EnrichmentView v) {
      Map<String, Integer> counts = new LinkedHashMap<>();
      counts.put("leads", v.leads());
      counts.put("matched", v.matched());
      counts.put("notFound", v.notFound());
      counts.put("cached", v.cached());
      counts.put("skipped", v.skipped());
      counts.put("pending", v.pending());
      return new EnrichmentBody(
          v.id(),
          EnrichmentRoutes.status(v.status()),
          counts,
          v.credits(),
          Prices.cents(v.costMicros()),
          Prices.cents(v.estimateMicros()),
          v.importId(),
          v.reviewId(),
          v.heldBy(),
          v.reason(),
          v.detail(),
          v.createdBy(),
          v.createdAt(),
          v.startedAt(),
          v.finishedAt());
    }
  }

  /** The API's status: a queued job (its turn not come yet) counts as running. */
  static String status(EnrichmentView.Status s) {
    return s == EnrichmentView.Status.QUEUED ? "running" : s.code();
  }

  public Route route() {
    return concat(
        path(
            segment("v1").slash("enrichments"),
            () ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/enrichments",
                            () -> authenticated(Role.OPERATOR, this::create)))),
        path(
            segment("v1").slash("enrichments").slash(segment()),
            id ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/enrichments/{id}",
                            () -> authenticated(Role.VIEWER, p -> get(p, id))))),
        path(
            segment("v1").slash("enrichments").slash(segment()).slash("draft-campaign"),
            id ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/enrichments/{id}/draft-campaign",
                            () -> authenticated(Role.OPERATOR, p -> draft(p, id))))));
  }

  private Route create(Principal p) {
    return jsonBody(
        CreateEnrichment.class,
        body -> {
          JobSource source;
          try {
            source = source(body);
          } catch (IllegalArgumentException e) {
            return problem(Problem.Type.VALIDATION.with(e.getMessage()));
          }
          CompletionStage<Boolean> account =
              production
                  ? blocking(
                      () -> accounts.own(p.tenantId(), EnrichmentProvider.APOLLO).isPresent())
                  : CompletableFuture.completedFuture(true);
          return answer(
              account,
              hasAccount -> {
                if (!hasAccount) {
                  return problem(
                      Problem.Type.ACCOUNT_MISSING.with(
                          "the tenant has no apollo account: set it with PUT"
                              + " /v1/tenant/providers/apollo"));
                }
                CompletionStage<EnrichmentView> accepted =
                    sharding
                        .entityRefFor(Luci.ENTITY_TYPE_KEY, p.tenantId())
                        .askWithStatus(
                            r -> new Luci.Submit(source, p.subject(), r), SUBMIT_TIMEOUT);
                return answer(
                    accepted,
                    v ->
                        respondWithHeader(
                            Location.create("/v1/enrichments/" + v.id()),
                            () ->
                                json(
                                    StatusCodes.ACCEPTED,
                                    new Accepted(v.id(), status(v.status())))));
              });
        });
  }

  /** The leads a request names: refuses both or neither, an empty list, too many, a bad id. */
  private JobSource source(CreateEnrichment body) {
    if ((body.leadIds() == null) == (body.importId() == null)) {
      throw new IllegalArgumentException(
          "give either leadIds (a list of lead ids) or importId (an import's id), not both");
    }
    if (body.importId() != null) {
      if (body.importId().isBlank() || body.importId().length() > 100) {
        throw new IllegalArgumentException("importId must be an import's id");
      }
      return JobSource.fromImport(body.importId());
    }
    if (body.leadIds().isEmpty()) {
      throw new IllegalArgumentException("leadIds must name at least one lead");
    }
    if (body.leadIds().size() > maxLeadIds) {
      throw new IllegalArgumentException(
          "leadIds may name at most "
              + maxLeadIds
              + " leads; enrich an import ({\"importId\": ...}) for more");
    }
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < body.leadIds().size(); i++) {
      String id = body.leadIds().get(i);
      try {
        ids.add(UUID.fromString(id == null ? "" : id));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("leadIds[" + i + "] is not a lead id");
      }
    }
    return JobSource.leads(ids);
  }

  private Route get(Principal p, String id) {
    if (!JOB_ID.matcher(id).matches()) {
      return notFound(id);
    }
    return answer(
        blocking(() -> store.view(p.tenantId(), id)),
        v -> v.isPresent() ? json(EnrichmentBody.of(v.get())) : notFound(id));
  }

  private Route draft(Principal p, String id) {
    if (!JOB_ID.matcher(id).matches()) {
      return notFound(id);
    }
    return optionalJsonBody(
        DraftCampaign.class,
        body ->
            answer(
                blocking(() -> store.view(p.tenantId(), id)),
                found -> {
                  if (found.isEmpty()) {
                    return notFound(id);
                  }
                  EnrichmentView v = found.get();
                  if (!v.status().finished()) {
                    return problem(
                        Problem.Type.CONFLICT.with(
                            "enrichment "
                                + id
                                + " is "
                                + status(v.status())
                                + "; a campaign is drafted once it has finished"));
                  }
                  if (v.enriched() == 0) {
                    return problem(
                        Problem.Type.CONFLICT.with(
                            "enrichment " + id + " enriched no leads to draft a campaign for"));
                  }
                  DraftCampaign d = body.orElse(new DraftCampaign(null, null, null, null));
                  return createDraft(p, v, d);
                }));
  }

  /** The campaign through the same entity command as {@code POST /v1/campaigns}. */
  private Route createDraft(Principal p, EnrichmentView v, DraftCampaign d) {
    CampaignDefinition definition;
    try {
      definition =
          CampaignRoutes.definition(
              new CampaignRoutes.CreateCampaign(
                  d.name() != null
                      ? d.name()
                      : "LUCI draft: " + v.enriched() + " enriched leads (" + v.id() + ")",
                  "sms",
                  d.provider(),
                  CampaignDefinition.Audience.enriched(v.id()),
                  d.message() != null ? d.message() : DRAFT_MESSAGE,
                  null,
                  null,
                  d.budgetCents(),
                  null));
    } catch (IllegalArgumentException e) {
      return problem(Problem.Type.VALIDATION.with(e.getMessage()));
    }
    String campaignId = CampaignRoutes.newCampaignId();
    CompletionStage<CampaignView> created =
        sharding
            .entityRefFor(
                CampaignEntity.ENTITY_TYPE_KEY, CampaignEntity.entityId(p.tenantId(), campaignId))
            .<CampaignView>askWithStatus(
                r -> new CampaignEntity.Create(definition, p.subject(), r), askTimeout)
            .thenCompose(
                view ->
                    blocking(
                        () -> {
                          store.campaignDrafted(
                              p.tenantId(), v.id(), campaignId, p.subject(), clock.instant());
                          return view;
                        }));
    return answer(
        created,
        view ->
            respondWithHeader(
                Location.create("/v1/campaigns/" + campaignId),
                () ->
                    json(
                        StatusCodes.CREATED,
                        CampaignRoutes.CampaignBody.of(view, CampaignReadModel.Stats.NONE))));
  }

  private Route notFound(String id) {
    return problem(Problem.Type.NOT_FOUND.with("enrichment " + id + " does not exist"));
  }
}
