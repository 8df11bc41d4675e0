package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.persistence.AuditRepository;
import java.io.UncheckedIOException;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /v1/audit}: the caller's tenant's audit trail, newest first, cursor-paged; {@code
 * ?subject=} narrows it to one subject (a tenant id now; campaigns and phone numbers later).
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
                                            paged(
                                                page ->
                                                    answer(
                                                        blocking(
                                                            () ->
                                                                audit.page(
                                                                    p.tenantId(),
                                                                    subject,
                                                                    page.after(),
                                                                    page.limit())),
                                                        result -> json(view(result)))))))));
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
