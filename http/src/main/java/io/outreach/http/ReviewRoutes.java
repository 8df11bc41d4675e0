package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.review.Review;
import io.outreach.engine.review.Reviews;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The review queue: {@code GET /v1/reviews} lists items waiting for a human (role viewer; {@code
 * ?status=approved|rejected|all} for decided ones), {@code POST /v1/reviews/{id}/approve} (with an
 * optional {@code {"draft": {...}}}, the draft as the human edited it) and {@code POST
 * /v1/reviews/{id}/reject} (an optional {@code {"note": "..."}}) decide one (role operator or
 * admin), recording who and when in the audit trail. Deciding an item twice is 409; an item of
 * another tenant is 404 like one that does not exist.
 */
public final class ReviewRoutes extends ApiDirectives {
  private static final Pattern REVIEW_ID = Pattern.compile("rev_[A-Za-z0-9_-]{1,60}");

  private final Reviews reviews;

  public ReviewRoutes(ActorSystem<?> system, JwtAuth auth, long maxBodyBytes, Reviews reviews) {
    super(system, auth, maxBodyBytes);
    this.reviews = reviews;
  }

  /** An item as the API shows it. */
  public record ReviewItem(
      String id,
      String kind,
      String subject,
      String summary,
      Map<String, Object> draft,
      String status,
      Instant createdAt,
      String decidedBy,
      Instant decidedAt) {
    static ReviewItem of(Review r) {
      return new ReviewItem(
          r.id(),
          r.kind(),
          r.subject(),
          r.summary(),
          r.draft(),
          r.status().code(),
          r.createdAt(),
          r.decidedBy(),
          r.decidedAt());
    }
  }

  /** Optional body of an approval: the draft as approved, if the human edited it. */
  public record Approval(Map<String, Object> draft, String note) {}

  /** Optional body of a rejection. */
  public record Rejection(String note) {}

  public Route route() {
    return concat(
        path(
            segment("v1").slash("reviews"),
            () ->
                get(
                    () ->
                        endpoint("GET /v1/reviews", () -> authenticated(Role.VIEWER, this::list)))),
        path(
            segment("v1").slash("reviews").slash(segment()).slash("approve"),
            id ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/reviews/{id}/approve",
                            () ->
                                authenticated(
                                    Role.OPERATOR,
                                    p ->
                                        optionalJsonBody(
                                            Approval.class, body -> approve(p, id, body)))))),
        path(
            segment("v1").slash("reviews").slash(segment()).slash("reject"),
            id ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/reviews/{id}/reject",
                            () ->
                                authenticated(
                                    Role.OPERATOR,
                                    p ->
                                        optionalJsonBody(
                                            Rejection.class, body -> reject(p, id, body)))))));
  }

  private Route list(Principal p) {
    return parameterOptional(
        "status",
        status -> {
          Optional<Review.Status> wanted;
          String s = status.orElse("pending").toLowerCase(Locale.ROOT);
          if (s.equals("all")) {
            wanted = Optional.empty();
          } else {
            try {
              wanted = Optional.of(Review.Status.valueOf(s.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
              return problem(
                  Problem.Type.VALIDATION.with(
                      "status must be pending, approved, rejected or all"));
            }
          }
          return paged(
              page ->
                  answer(
                      reviews.page(p.tenantId(), wanted, page.after().orElse(0L), page.limit() + 1),
                      rows -> {
                        boolean more = rows.size() > page.limit();
                        List<Review> shown = more ? rows.subList(0, page.limit()) : rows;
                        return json(
                            new ListPage<>(
                                shown.stream().map(ReviewItem::of).toList(),
                                more ? ListPage.encode(shown.get(shown.size() - 1).seq()) : null));
                      }));
        });
  }

  private Route approve(Principal p, String id, Optional<Approval> body) {
    if (!REVIEW_ID.matcher(id).matches()) {
      return notFound(id);
    }
    Map<String, Object> draft = body.map(Approval::draft).orElse(null);
    String note = body.map(Approval::note).filter(n -> !n.isBlank()).orElse(null);
    if (note != null && note.length() > 1000) {
      return problem(Problem.Type.VALIDATION.with("note must be at most 1000 characters"));
    }
    return answer(
        reviews.approve(p.tenantId(), id, p.subject(), draft, note), r -> json(ReviewItem.of(r)));
  }

  private Route reject(Principal p, String id, Optional<Rejection> body) {
    if (!REVIEW_ID.matcher(id).matches()) {
      return notFound(id);
    }
    String note = body.map(Rejection::note).filter(n -> !n.isBlank()).orElse(null);
    if (note != null && note.length() > 1000) {
      return problem(Problem.Type.VALIDATION.with("note must be at most 1000 characters"));
    }
    return answer(reviews.reject(p.tenantId(), id, p.subject(), note), r -> json(ReviewItem.of(r)));
  }

  private Route notFound(String id) {
    return problem(Problem.Type.NOT_FOUND.with("review " + id + " does not exist"));
  }
}
