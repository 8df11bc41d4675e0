package io.outreach.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.Refused;
import io.outreach.engine.review.Review;
import io.outreach.engine.review.ReviewQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The review queue in PostgreSQL ({@code reviews}, see V14). An item is added in the transaction of
 * the work that needs it ({@link #insert}); a decision is one conditional update (pending to
 * approved or rejected, so two humans deciding at once get one decision and one conflict) with its
 * audit row, naming who decided and when, in the same transaction.
 */
public final class ReviewRepository implements ReviewQueue {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Object>> DRAFT = new TypeReference<>() {};
  private static final String COLUMNS =
      "review_id, seq, kind, subject, summary, draft::text, status, created_at, decided_by,"
          + " decided_at";

  private final TenantJdbc tenantJdbc;

  public ReviewRepository(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** A pending item to add, created at {@code createdAt}. */
  record Row(Review.Request request, Instant createdAt) {}

  /**
   * Adds a pending item on a connection already bound to {@code tenantId}; an item of that id there
   * already stays as it is (a replayed event adds nothing).
   */
  static void insert(Connection c, String tenantId, Review.Request r, Instant now)
      throws SQLException {
    insert(c, tenantId, List.of(new Row(r, now)));
  }

  /** {@link #insert(Connection, String, Review.Request, Instant)} for each, in one round trip. */
  static void insert(Connection c, String tenantId, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into reviews (tenant_id, review_id, kind, subject, summary, draft, created_at)"
                + " values (?, ?, ?, ?, ?, ?::jsonb, ?) on conflict do nothing")) {
      for (Row row : rows) {
        Review.Request r = row.request();
        ps.setString(1, tenantId);
        ps.setString(2, r.id());
        ps.setString(3, r.kind());
        ps.setString(4, r.subject());
        ps.setString(5, r.summary());
        ps.setString(6, json(r.draft()));
        ps.setTimestamp(7, Timestamp.from(row.createdAt()));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  @Override
  public List<Review> page(String tenantId, Optional<Review.Status> status, long after, int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select "
                      + COLUMNS
                      + " from reviews where (?::text is null or status = ?) and seq > ?"
                      + " order by seq limit ?")) {
            String s = status.map(Review.Status::code).orElse(null);
            ps.setString(1, s);
            ps.setString(2, s);
            ps.setLong(3, after);
            ps.setInt(4, limit);
            return read(ps);
          }
        });
  }

  @Override
  public Optional<Review> get(String tenantId, String reviewId) {
    return tenantJdbc.inTenant(tenantId, c -> get(c, reviewId));
  }

  @Override
  public Review decide(
      String tenantId,
      String reviewId,
      boolean approve,
      String actor,
      Map<String, Object> draft,
      String note,
      Instant at) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          Review decided;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update reviews set status = ?, decided_by = ?, decided_at = ?,"
                      // An edit replaces the fields it names; the others stay the agent's.
                      + " draft = draft || coalesce(?::jsonb, '{}') where review_id = ? and status ="
                      + " 'pending' returning "
                      + COLUMNS)) {
            ps.setString(1, approve ? "approved" : "rejected");
            ps.setString(2, actor);
            ps.setTimestamp(3, Timestamp.from(at));
            ps.setString(4, draft == null ? null : json(draft));
            ps.setString(5, reviewId);
            decided = read(ps).stream().findFirst().orElse(null);
          }
          if (decided == null) {
            Review earlier =
                get(c, reviewId)
                    .orElseThrow(() -> Refused.notFound("review " + reviewId + " does not exist"));
            throw Refused.conflict(
                "review "
                    + reviewId
                    + " was already "
                    + earlier.status().code()
                    + " by "
                    + earlier.decidedBy()
                    + " at "
                    + earlier.decidedAt());
          }
          ObjectNode detail = JSON.createObjectNode();
          detail.put("reviewId", reviewId);
          detail.put("kind", decided.kind());
          detail.put("edited", draft != null);
          if (note != null) {
            detail.put("note", note);
          }
          AuditRepository.insert(
              c,
              tenantId,
              at,
              actor,
              approve ? "review.approved" : "review.rejected",
              decided.subject(),
              detail.toString());
          return decided;
        });
  }

  private static Optional<Review> get(Connection c, String reviewId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select " + COLUMNS + " from reviews where review_id = ?")) {
      ps.setString(1, reviewId);
      return read(ps).stream().findFirst();
    }
  }

  private static List<Review> read(PreparedStatement ps) throws SQLException {
    List<Review> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Timestamp decidedAt = rs.getTimestamp(10);
        out.add(
            new Review(
                rs.getString(1),
                rs.getLong(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                draft(rs.getString(6)),
                Review.Status.valueOf(rs.getString(7).toUpperCase(java.util.Locale.ROOT)),
                rs.getTimestamp(8).toInstant(),
                rs.getString(9),
                decidedAt == null ? null : decidedAt.toInstant()));
      }
    }
    return out;
  }

  private static Map<String, Object> draft(String json) {
    try {
      return JSON.readValue(json, DRAFT);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored review draft is not JSON", e);
    }
  }

  private static String json(Map<String, Object> draft) {
    try {
      return JSON.writeValueAsString(draft == null ? Map.of() : draft);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("a review draft must be JSON", e);
    }
  }
}
