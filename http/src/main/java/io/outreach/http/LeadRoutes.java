package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.persistence.LeadRepository;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Leads: {@code GET /v1/leads} (cursor-paged, optionally one import's), {@code GET /v1/leads/{id}},
 * and {@code DELETE /v1/leads/{id}}, the erasure of a lead's personal data for a privacy request
 * (its number stays suppressed).
 */
public final class LeadRoutes extends ApiDirectives {
  private final LeadRepository leads;

  public LeadRoutes(ActorSystem<?> system, JwtAuth auth, LeadRepository leads) {
    super(system, auth, 0);
    this.leads = leads;
  }

  /** A lead as the API shows it. */
  public record LeadView(
      String id,
      String phone,
      String email,
      String firstName,
      String lastName,
      String company,
      String address,
      String city,
      String state,
      String zip,
      List<String> timezones,
      Instant consentAt,
      String consentSource,
      JsonNode attributes,
      String importId,
      Instant createdAt) {}

  public Route route() {
    return concat(
        path(
            segment("v1").slash("leads"),
            () ->
                get(() -> endpoint("GET /v1/leads", () -> authenticated(Role.VIEWER, this::list)))),
        path(
            segment("v1").slash("leads").slash(segment()),
            id ->
                concat(
                    get(
                        () ->
                            endpoint(
                                "GET /v1/leads/{id}",
                                () -> authenticated(Role.VIEWER, p -> show(p, id)))),
                    delete(
                        () ->
                            endpoint(
                                "DELETE /v1/leads/{id}",
                                () -> authenticated(Role.ADMIN, p -> erase(p, id)))))));
  }

  private Route list(Principal p) {
    return parameterOptional(
        "importId",
        importId ->
            paged(
                page ->
                    answer(
                        blocking(
                            () -> leads.page(p.tenantId(), importId, page.after(), page.limit())),
                        rows ->
                            json(
                                new ListPage<>(
                                    rows.stream().map(this::view).toList(),
                                    rows.size() == page.limit()
                                        ? ListPage.encode(rows.get(rows.size() - 1).seq())
                                        : null)))));
  }

  private Route show(Principal p, String id) {
    Optional<UUID> uuid = parse(id);
    if (uuid.isEmpty()) {
      return notFound(id);
    }
    return answer(
        blocking(() -> leads.get(p.tenantId(), uuid.get())),
        lead -> lead.map(l -> json(view(l))).orElseGet(() -> notFound(id)));
  }

  private Route erase(Principal p, String id) {
    Optional<UUID> uuid = parse(id);
    if (uuid.isEmpty()) {
      return notFound(id);
    }
    return answer(
        blocking(() -> leads.erase(p.tenantId(), uuid.get(), p.subject())),
        erased -> erased ? complete(StatusCodes.NO_CONTENT) : notFound(id));
  }

  private Route notFound(String id) {
    return problem(Problem.Type.NOT_FOUND.with("lead " + id + " does not exist"));
  }

  private static Optional<UUID> parse(String id) {
    try {
      return Optional.of(UUID.fromString(id));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private LeadView view(LeadRepository.Lead l) {
    JsonNode attributes;
    try {
      attributes = mapper.readTree(l.attributes());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    return new LeadView(
        l.id().toString(),
        l.phone(),
        l.email(),
        l.firstName(),
        l.lastName(),
        l.company(),
        l.address(),
        l.city(),
        l.state(),
        l.zip(),
        l.timezones(),
        l.consentAt(),
        l.consentSource(),
        attributes,
        l.importId(),
        l.createdAt());
  }
}
