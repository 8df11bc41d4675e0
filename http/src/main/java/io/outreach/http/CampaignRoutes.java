package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignPreview;
import io.outreach.engine.campaign.CampaignPreviews;
import io.outreach.engine.campaign.CampaignSenders;
import io.outreach.engine.campaign.CampaignView;
import io.outreach.engine.cathy.FollowUpDrafts;
import io.outreach.engine.cathy.FollowUpReviews;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.http.provider.TenantAccounts;
import io.outreach.persistence.CampaignReadModel;
import io.outreach.persistence.ResumableWorkRepository;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;

/**
 * Campaigns: {@code POST /v1/campaigns} creates a draft; {@code GET /v1/campaigns} lists them;
 * {@code GET /v1/campaigns/{id}} reports state and live counts (the entity's, plus what receipts
 * and replies moved); {@code GET /v1/campaigns/{id}/messages} pages its recipients' messages;
 * {@code POST /v1/campaigns/{id}/launch|pause|resume|cancel} moves it.
 */
public final class CampaignRoutes extends ApiDirectives {
  private static final Pattern CAMPAIGN_ID = Pattern.compile("cmp_[a-z0-9]{8,40}");

  /** Whether {@code id} has the shape of a campaign id. */
  static boolean isCampaignId(String id) {
    return CAMPAIGN_ID.matcher(id).matches();
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final ResumableWorkRepository work;
  private final CampaignReadModel readModel;
  private final boolean sandbox;
  private final CampaignPreviews previews;
  private final TenantAccounts accounts;
  private final FollowUpDrafts drafts;
  private final FollowUpReviews followUps;

  public CampaignRoutes(
      ActorSystem<?> system,
      JwtAuth auth,
      long maxBodyBytes,
      Duration askTimeout,
      ResumableWorkRepository work,
      CampaignReadModel readModel,
      boolean sandbox,
      CampaignPreviews previews,
      TenantAccounts accounts,
      FollowUpDrafts drafts,
      FollowUpReviews followUps) {
    super(system, auth, maxBodyBytes);
    this.drafts = drafts;
    this.followUps = followUps;
    this.previews = previews;
    this.accounts = accounts;
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.work = work;
    this.readModel = readModel;
    this.sandbox = sandbox;
  }

  /** A campaign in {@code GET /v1/campaigns}. */
  public record CampaignItem(
      String id,
      String name,
      String channel,
      String state,
      long recipients,
      Instant createdAt,
      Instant startAt) {}

  /** {@code GET /v1/campaigns/{id}/preview}: what a launch now would do. */
  public record PreviewBody(
      long recipients,
      long eligible,
      Map<String, Long> blocked,
      long deferred,
      List<CampaignPreview.Slot> deferredUntil,
      long estimatedCostCents,
      List<CampaignPreview.Slot> schedule) {
    static PreviewBody of(CampaignPreview.Result r) {
      Map<String, Long> blocked = new LinkedHashMap<>();
      for (BlockReason reason : BlockReason.values()) {
        blocked.put(CampaignBody.camel(reason), r.blocked().getOrDefault(reason, 0L));
      }
      return new PreviewBody(
          r.recipients(),
          r.eligible(),
          blocked,
          r.deferred(),
          r.deferredUntil(),
          r.estimatedCostCents(),
          r.schedule());
    }
  }

  /** A recipient's message in {@code GET /v1/campaigns/{id}/messages}. */
  public record MessageItem(
      long recipient,
      int step,
      String phone,
      String status,
      String reason,
      String from,
      String providerMessageId,
      Integer segments,
      Instant dueAt,
      Instant updatedAt) {}

  /** Body of {@code POST /v1/campaigns}, as API.md writes it. */
  public record CreateCampaign(
      String name,
      String channel,
      String provider,
      CampaignDefinition.Audience audience,
      String message,
      List<Step> steps,
      Window window,
      Long budgetCents,
      Instant startAt) {}

  /**
   * A follow-up step of the request: its {@code message}, or a {@code brief} Cathy drafts it from;
   * {@code channel} null: the campaign's.
   */
  public record Step(Integer afterHours, String message, String channel, String brief) {}

  /** The request's sending window, {@code HH:mm}. */
  public record Window(String start, String end) {}

  /** A campaign as the API shows it. */
  public record CampaignBody(
      String id,
      String name,
      String state,
      Map<String, Object> counts,
      Instant nextDueAt,
      long spentCents,
      long estimatedCostCents,
      int blocks,
      int blocksFinished,
      int blocksWaiting,
      Instant createdAt,
      Instant startAt) {
    static CampaignBody of(CampaignView v, CampaignReadModel.Stats stats) {
      Map<String, Long> blocked = new LinkedHashMap<>();
      for (BlockReason r : BlockReason.values()) {
        blocked.put(camel(r), v.counts().blocked().getOrDefault(r, 0L));
      }
      Map<String, Object> counts = new LinkedHashMap<>();
      counts.put("recipients", v.counts().recipients());
      counts.put("sent", v.counts().sent());
      counts.put("delivered", stats.delivered());
      counts.put("undelivered", stats.undelivered());
      counts.put("failed", v.counts().failed());
      counts.put("pending", v.pending());
      counts.put("replied", stats.replied());
      counts.put("optedOut", stats.optedOut());
      counts.put("blocked", blocked);
      counts.put("deferred", v.counts().deferred());
      counts.put("deferredBy", v.counts().deferredBy());
      counts.put(
          "followUps",
          Map.of("sent", v.counts().followUpsSent(), "stopped", v.counts().followUpsStopped()));
      return new CampaignBody(
          v.id(),
          v.name(),
          v.state(),
          counts,
          v.nextDueAt(),
          Prices.cents(v.counts().spentMicros() + stats.callsSpentMicros()),
          Prices.cents(v.counts().estimatedMicros()),
          v.blocks(),
          v.blocksFinished(),
          v.blocksWaiting(),
          v.createdAt(),
          v.startAt());
    }

    static String camel(BlockReason r) {
      String[] parts = r.name().toLowerCase(Locale.ROOT).split("_");
      StringBuilder b = new StringBuilder(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        b.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
      }
      return b.toString();
    }
  }

  public Route route() {
    return concat(
        path(
            segment("v1").slash("campaigns"),
            () ->
                concat(
                    post(
                        () ->
                            endpoint(
                                "POST /v1/campaigns",
                                () -> authenticated(Role.OPERATOR, this::create))),
                    get(
                        () ->
                            endpoint(
                                "GET /v1/campaigns",
                                () -> authenticated(Role.VIEWER, this::list))))),
        path(
            segment("v1").slash("campaigns").slash(segment()),
            id ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/campaigns/{id}",
                            () ->
                                authenticated(
                                    Role.VIEWER,
                                    p -> ask(p, id, CampaignEntity.Get::new, StatusCodes.OK))))),
        path(
            segment("v1").slash("calendar"),
            () ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/calendar", () -> authenticated(Role.VIEWER, this::calendar)))),
        path(
            segment("v1").slash("campaigns").slash(segment()).slash("preview"),
            id ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/campaigns/{id}/preview",
                            () -> authenticated(Role.VIEWER, p -> preview(p, id))))),
        path(
            segment("v1").slash("campaigns").slash(segment()).slash("messages"),
            id ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/campaigns/{id}/messages",
                            () -> authenticated(Role.VIEWER, p -> messages(p, id))))),
        path(
            segment("v1").slash("campaigns").slash(segment()).slash("launch"),
            id ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/campaigns/{id}/launch",
                            () -> authenticated(Role.OPERATOR, p -> launch(p, id))))),
        action(
            "pause",
            "POST /v1/campaigns/{id}/pause",
            (p, r) -> new CampaignEntity.Pause(p.subject(), r)),
        action(
            "resume",
            "POST /v1/campaigns/{id}/resume",
            (p, r) -> new CampaignEntity.Resume(p.subject(), r)),
        action(
            "cancel",
            "POST /v1/campaigns/{id}/cancel",
            (p, r) -> new CampaignEntity.Cancel(p.subject(), r)));
  }

  private Route action(
      String name,
      String template,
      java.util.function.BiFunction<
              Principal, ActorRef<StatusReply<CampaignView>>, CampaignEntity.Command>
          command) {
    return path(
        segment("v1").slash("campaigns").slash(segment()).slash(name),
        id ->
            post(
                () ->
                    endpoint(
                        template,
                        () ->
                            authenticated(
                                Role.OPERATOR,
                                p -> ask(p, id, r -> command.apply(p, r), StatusCodes.ACCEPTED)))));
  }

  /**
   * Marks the campaign as work to resume before launching it, so a crash at any point after is
   * recovered at the next start (a campaign that turns out settled clears the mark itself).
   */
  private Route launch(Principal p, String id) {
    if (!CAMPAIGN_ID.matcher(id).matches()) {
      return problem(Problem.Type.NOT_FOUND.with("campaign " + id + " does not exist"));
    }
    CompletionStage<CampaignDefinition> campaign =
        ref(p.tenantId(), id).askWithStatus(CampaignEntity.GetDefinition::new, askTimeout);
    return answer(
        tenant(p).thenCombine(campaign, Map::entry),
        td -> {
          Tenant t = td.getKey();
          if (!sandbox && t.senders().isEmpty()) {
            return problem(
                Problem.Type.CONFLICT.with(
                    "the tenant has no sender numbers: add them with PATCH /v1/tenant {\"senders\": [...]}"));
          }
          int steps = td.getValue().steps() == null ? 0 : td.getValue().steps().size();
          int allowed = CampaignSenders.followUpPolicy(t).maxFollowUps();
          if (steps > allowed) {
            return problem(
                Problem.Type.CONFLICT.with(
                    "the campaign has "
                        + steps
                        + " follow-up steps; Cathy sends at most "
                        + allowed
                        + " per recipient (agentPolicies.cathy.maxFollowUps)"));
          }
          String provider = CampaignSenders.provider(td.getValue(), t);
          return answer(
              sandbox
                  ? CompletableFuture.completedFuture(true)
                  : blocking(() -> accounts.own(p.tenantId(), provider).isPresent()),
              hasAccount ->
                  hasAccount
                      ? launchNow(p, id, td.getValue())
                      : problem(
                          Problem.Type.ACCOUNT_MISSING.with(
                              "the tenant has no "
                                  + provider
                                  + " account: set it with PUT /v1/tenant/providers/"
                                  + provider)));
        });
  }

  /**
   * Tells the campaign the review decisions it missed (a crash after a decision), marks it as work
   * to resume after a crash, then launches it.
   */
  private Route launchNow(Principal p, String id, CampaignDefinition d) {
    return answer(
        followUps
            .catchUp(p.tenantId(), d)
            .thenCompose(
                x ->
                    blocking(
                        () -> {
                          work.register(
                              CampaignEntity.ENTITY_TYPE_KEY.name(),
                              CampaignEntity.entityId(p.tenantId(), id));
                          return id;
                        })),
        ignored ->
            ask(p, id, r -> new CampaignEntity.Launch(p.subject(), r), StatusCodes.ACCEPTED));
  }

  private Route list(Principal p) {
    return paged(
        page ->
            answer(
                blocking(() -> readModel.campaigns(p.tenantId(), page.after(), page.limit())),
                rows -> {
                  boolean more = rows.size() > page.limit();
                  List<CampaignReadModel.CampaignRow> shown =
                      more ? rows.subList(0, page.limit()) : rows;
                  return json(
                      new ListPage<>(
                          shown.stream()
                              .map(
                                  r ->
                                      new CampaignItem(
                                          r.id(),
                                          r.name(),
                                          r.channel(),
                                          r.state(),
                                          r.recipients(),
                                          r.createdAt(),
                                          r.startAt()))
                              .toList(),
                          more ? ListPage.encode(shown.get(shown.size() - 1).seq()) : null));
                }));
  }

  /** The longest window {@code GET /v1/calendar} answers for. */
  static final Duration MAX_CALENDAR_WINDOW = Duration.ofDays(92);

  private Route calendar(Principal p) {
    return parameterOptional(
        "from",
        from ->
            parameterOptional(
                "to",
                to -> {
                  Instant start;
                  Instant end;
                  try {
                    start = from.map(Instant::parse).orElseGet(Instant::now);
                    end = to.map(Instant::parse).orElse(start.plus(Duration.ofDays(7)));
                  } catch (DateTimeParseException e) {
                    return problem(
                        Problem.Type.VALIDATION.with(
                            "from and to must be ISO-8601 instants, e.g. 2026-12-01T00:00:00Z"));
                  }
                  if (!end.isAfter(start)
                      || Duration.between(start, end).compareTo(MAX_CALENDAR_WINDOW) > 0) {
                    return problem(
                        Problem.Type.VALIDATION.with(
                            "to must be after from, at most 92 days later"));
                  }
                  return answer(
                      blocking(() -> readModel.calendar(p.tenantId(), start, end)),
                      entries -> json(Map.of("from", start, "to", end, "items", entries)));
                }));
  }

  private Route preview(Principal p, String id) {
    if (!CAMPAIGN_ID.matcher(id).matches()) {
      return problem(Problem.Type.NOT_FOUND.with("campaign " + id + " does not exist"));
    }
    CompletionStage<CampaignDefinition> definition =
        ref(p.tenantId(), id).askWithStatus(CampaignEntity.GetDefinition::new, askTimeout);
    return answer(
        definition
            .thenCombine(tenant(p), (d, t) -> Map.entry(d, t))
            .thenCompose(
                dt -> {
                  return blocking(
                      () ->
                          PreviewBody.of(
                              previews.preview(p.tenantId(), id, dt.getKey(), dt.getValue())));
                }),
        this::json);
  }

  private Route messages(Principal p, String id) {
    if (!CAMPAIGN_ID.matcher(id).matches()) {
      return problem(Problem.Type.NOT_FOUND.with("campaign " + id + " does not exist"));
    }
    return parameterOptional(
        "status",
        status ->
            paged(
                page ->
                    answer(
                        ref(p.tenantId(), id)
                            .askWithStatus(CampaignEntity.Get::new, askTimeout)
                            .thenCompose(
                                exists ->
                                    blocking(
                                        () ->
                                            readModel.messages(
                                                p.tenantId(),
                                                id,
                                                status,
                                                page.after(),
                                                page.limit()))),
                        rows -> {
                          boolean more = rows.size() > page.limit();
                          List<CampaignReadModel.MessageRow> shown =
                              more ? rows.subList(0, page.limit()) : rows;
                          return json(
                              new ListPage<>(
                                  shown.stream()
                                      .map(
                                          r ->
                                              new MessageItem(
                                                  r.recipient(),
                                                  r.step(),
                                                  r.phone(),
                                                  r.status(),
                                                  r.reason(),
                                                  r.sender(),
                                                  r.providerMessageId(),
                                                  r.segments(),
                                                  r.dueAt(),
                                                  r.updatedAt()))
                                      .toList(),
                                  more
                                      ? ListPage.encode(shown.get(shown.size() - 1).position())
                                      : null));
                        })));
  }

  private Route create(Principal p) {
    return jsonBody(
        CreateCampaign.class,
        body -> {
          CampaignDefinition definition;
          try {
            definition = definition(body);
          } catch (IllegalArgumentException e) {
            return problem(Problem.Type.VALIDATION.with(e.getMessage()));
          }
          // Nothing is drafted (or paid for) for a campaign that would be refused anyway; the
          // entity judges startAt on the campaign clock.
          List<String> problems = definition.problems(Instant.EPOCH);
          if (definition.undrafted() && !problems.isEmpty()) {
            return problem(Problem.Type.VALIDATION.with(String.join("; ", problems)));
          }
          String id = newCampaignId();
          CompletionStage<CampaignView> created =
              drafted(p, id, definition)
                  .thenCompose(
                      d ->
                          ref(p.tenantId(), id)
                              .askWithStatus(
                                  r -> new CampaignEntity.Create(d, p.subject(), r), askTimeout));
          return answer(
              created,
              v ->
                  respondWithHeader(
                      Location.create("/v1/campaigns/" + id),
                      () ->
                          json(
                              StatusCodes.CREATED,
                              CampaignBody.of(v, CampaignReadModel.Stats.NONE))));
        });
  }

  /**
   * The definition with the follow-ups Cathy drafts (itself when it has none to draft); a draft the
   * model could not give is a 503 (retry when the model said), Cathy held or disabled a 409.
   */
  private CompletionStage<CampaignDefinition> drafted(
      Principal p, String id, CampaignDefinition d) {
    return drafts
        .draft(p.tenantId(), id, d)
        .exceptionallyCompose(
            t -> {
              Throwable cause = t instanceof CompletionException ? t.getCause() : t;
              return CompletableFuture.failedFuture(
                  cause instanceof FollowUpDrafts.Unavailable u
                      ? new ProblemException(
                          Problem.Type.UNAVAILABLE
                              .with(u.getMessage())
                              .retryingAfter(u.retryAfter()))
                      : t);
            });
  }

  private CompletionStage<Tenant> tenant(Principal p) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, p.tenantId())
        .askWithStatus(TenantEntity.Get::new, askTimeout);
  }

  /** The definition a create request asks for; a malformed window or channel is refused. */
  static CampaignDefinition definition(CreateCampaign b) {
    Channel channel = b.channel() == null ? null : channel(b.channel());
    CampaignDefinition.SendWindow window = null;
    if (b.window() != null) {
      try {
        window =
            new CampaignDefinition.SendWindow(
                LocalTime.parse(b.window().start()), LocalTime.parse(b.window().end()));
      } catch (DateTimeParseException | NullPointerException e) {
        throw new IllegalArgumentException("window.start and window.end must be HH:mm");
      }
    }
    List<CampaignDefinition.FollowUpStep> steps =
        b.steps() == null
            ? List.of()
            : b.steps().stream()
                .map(
                    s ->
                        s.brief() != null && s.message() == null
                            ? CampaignDefinition.FollowUpStep.toDraft(
                                s.afterHours() == null ? 0 : s.afterHours(),
                                s.brief(),
                                s.channel() == null ? null : channel(s.channel()))
                            : new CampaignDefinition.FollowUpStep(
                                s.afterHours() == null ? 0 : s.afterHours(),
                                s.message(),
                                s.channel() == null ? null : channel(s.channel()),
                                s.brief(),
                                null,
                                null))
                .toList();
    return new CampaignDefinition(
        b.name(),
        channel,
        b.provider(),
        b.audience(),
        b.message(),
        steps,
        window,
        b.budgetCents(),
        b.startAt());
  }

  private static Channel channel(String name) {
    try {
      return Channel.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("channel must be sms or voice");
    }
  }

  private Route ask(
      Principal p,
      String id,
      Function<ActorRef<StatusReply<CampaignView>>, CampaignEntity.Command> command,
      org.apache.pekko.http.javadsl.model.StatusCode status) {
    if (!CAMPAIGN_ID.matcher(id).matches()) {
      return problem(Problem.Type.NOT_FOUND.with("campaign " + id + " does not exist"));
    }
    CompletionStage<CampaignBody> body =
        ref(p.tenantId(), id)
            .askWithStatus(command::apply, askTimeout)
            .thenCompose(
                v -> blocking(() -> CampaignBody.of(v, readModel.stats(p.tenantId(), id))));
    return answer(body, b -> json(status, b));
  }

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<CampaignEntity.Command> ref(
      String tenantId, String id) {
    return sharding.entityRefFor(
        CampaignEntity.ENTITY_TYPE_KEY, CampaignEntity.entityId(tenantId, id));
  }

  /** A new campaign id: {@code cmp_} and 20 hex digits. */
  static String newCampaignId() {
    byte[] b = new byte[10];
    RANDOM.nextBytes(b);
    return "cmp_" + HexFormat.of().formatHex(b);
  }
}
