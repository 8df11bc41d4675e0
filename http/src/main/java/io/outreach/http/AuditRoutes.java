package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.persistence.AuditRepository;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /v1/audit}: the caller's tenant's audit trail, newest first, cursor-paged; {@code
 * ?campaignId=} narrows it to one campaign's entries (its lifecycle, Cathy's drafts and follow-ups,
 * their reviews), {@code ?phone=} to one person's (opt-outs, Gianna's decisions), {@code ?subject=}
 * to any one subject (a tenant id, a provider, a review's subject).
 */
public final class AuditRoutes extends ApiDirectives {
  private final AuditRepository audit;

  public AuditRoutes(ActorSystem<?> system, JwtAuth auth, AuditRepository audit) {
    super(system, auth, 0);
    this.audit = audit;
  }

  /** One audit entry as the API shows it. */
  public record AuditView(
      long id, Instant at, String actor, String action, String subject, JsonNode detail) {}

  public Route route() {
    return path(
        segment("v1").slash("audit"),
        () ->
            get(
                () ->
                    endpoint(
                        "GET /v1/audit",
                        () ->
                            authenticated(
                                Role.VIEWER,
                                p ->
                                    parameterOptional(
                                        "subject",
                                        subject ->
                                            parameterOptional(
                                                "campaignId",
                                                campaign ->
                                                    parameterOptional(
                                                        "phone",
                                                        phone ->
                                                            page(
                                                                p,
                                                                List.of(
                                                                    subject, campaign,
                                                                    phone)))))))));
  }

  /** One page about the one subject the query names (any of its three ways), or about all. */
  private Route page(Principal p, List<Optional<String>> subjects) {
    List<String> named = subjects.stream().flatMap(Optional::stream).toList();
    if (named.size() > 1) {
      return problem(
          Problem.Type.VALIDATION.with("give one of subject, campaignId and phone, not several"));
    }
    Optional<String> subject = named.stream().findFirst();
    return paged(
        page ->
            answer(
                blocking(() -> audit.page(p.tenantId(), subject, page.after(), page.limit())),
                result -> json(view(result))));
  }

  private ListPage<AuditView> view(AuditRepository.Page page) {
    return new ListPage<>(
        page.items().stream()
            .map(
                e ->
                    new AuditView(
                        e.id(), e.at(), e.actor(), e.action(), e.subject(), tree(e.detail())))
            .toList(),
        page.nextBefore().map(ListPage::encode).orElse(null));
  }

  private JsonNode tree(String json) {
    try {
      return mapper.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
