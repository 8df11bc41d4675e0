package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.gianna.Classification;
import io.outreach.engine.gianna.Gianna;
import io.outreach.engine.gianna.GiannaOutcome;
import io.outreach.engine.gianna.GiannaPolicy;
import io.outreach.engine.gianna.GiannaStorage;
import io.outreach.engine.gianna.PendingReply;
import io.outreach.engine.gianna.ReplyClassifier;
import io.outreach.engine.gianna.ReplyReviews;
import io.outreach.engine.review.Review;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Gianna's rows: the replies waiting for her on their thread, what she made of each
 * (classification, action, review item, opt-out), recorded a batch per transaction with its audit
 * rows, and the replies to hand to the people's Conversations until they have them.
 */
public final class GiannaStore implements GiannaStorage {
  /** Gianna's marker in {@code resumable_work} (entity id: the tenant). */
  public static final String GIANNA = Gianna.ENTITY_TYPE_KEY.name();

  /** The review kind of a reply whose answer waits for a human. */
  public static final String REVIEW_KIND = ReplyReviews.KIND;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int THREAD_TURNS = 4;
  private static final int SUMMARY_BODY = 80;

  private static final String STILL_WORK =
      "select 1 from conversation_messages where tenant_id = ? and classify_state = 'pending'"
          + " union all select 1 from agent_handoffs where tenant_id = ?";

  private final TenantJdbc tenantJdbc;
  private final Clock clock;

  public GiannaStore(TenantJdbc tenantJdbc, Clock clock) {
    this.tenantJdbc = tenantJdbc;
    this.clock = clock;
  }

  /**
   * The oldest replies waiting whose retry time has come, but for those in flight, with the turns
   * before each.
   */
  @Override
  public List<PendingReply> pending(String tenantId, int limit, Collection<String> inFlight) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select m.message_key, m.provider, m.phone, m.to_number, m.body, m.at,"
                      + " m.classify_attempts, array(select d || ':' || coalesce(b, '') from ("
                      + "select p.at t, p.direction d, p.body b from conversation_messages p"
                      + " where p.phone = m.phone and p.at < m.at"
                      + " union all select s.sent_at, 'outbound', s.body from messages s"
                      + " where s.phone = m.phone and s.sent_at < m.at"
                      + " order by 1 desc limit ?) x order by x.t)"
                      + " from conversation_messages m where m.classify_state = 'pending'"
                      + " and (m.classify_after is null or m.classify_after <= ?)"
                      + " and m.message_key <> all(?) order by m.at limit ?")) {
            ps.setInt(1, THREAD_TURNS);
            ps.setTimestamp(2, Timestamp.from(clock.instant()));
            ps.setArray(3, c.createArrayOf("text", inFlight.toArray()));
            ps.setInt(4, limit);
            List<PendingReply> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                List<ReplyClassifier.Turn> thread = new ArrayList<>();
                for (Object t : (Object[]) rs.getArray(8).getArray()) {
                  String turn = (String) t;
                  int colon = turn.indexOf(':');
                  thread.add(
                      new ReplyClassifier.Turn(
                          turn.startsWith("outbound"), turn.substring(colon + 1)));
                }
                out.add(
                    new PendingReply(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getTimestamp(6).toInstant(),
                        rs.getInt(7),
                        thread));
              }
            }
            return out;
          }
        });
  }

  @Override
  public java.util.Optional<Instant> nextRetry(String tenantId) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select min(classify_after) from conversation_messages where classify_state ="
                      + " 'pending' and classify_after is not null")) {
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              Timestamp t = rs.getTimestamp(1);
              return java.util.Optional.ofNullable(t == null ? null : t.toInstant());
            }
          }
        });
  }

  /**
   * Records a batch's outcomes in one transaction (see {@code GiannaPorts.record}); answers the
   * replies to hand over: the answers, and the confirmations of opt-outs that are new. A reply
   * whose row no longer waits (recorded before, or erased) is left as it is: nothing of its outcome
   * is recorded twice.
   */
  @Override
  public List<Reply> record(String tenantId, List<GiannaOutcome> outcomes) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          List<String> optingOut =
              outcomes.stream()
                  .filter(
                      o ->
                          o.verdict() != null
                              && o.verdict().action() == GiannaPolicy.Action.OPT_OUT)
                  .map(o -> o.reply().phone())
                  .toList();
          PersonLocks.lock(c, tenantId, optingOut);
          List<String> reviewIds =
              outcomes.stream()
                  .map(
                      o ->
                          o.verdict() != null && o.verdict().action() == GiannaPolicy.Action.REVIEW
                              ? reviewId(o)
                              : null)
                  .toList();
          int[] updated = update(c, outcomes, reviewIds);
          List<Reply> handOver = new ArrayList<>();
          Map<String, Instant> optedOut = new TreeMap<>();
          Map<String, String> lastCategory = new TreeMap<>();
          List<ReviewRepository.Row> reviews = new ArrayList<>();
          List<AuditRepository.Row> audits = new ArrayList<>();
          for (int i = 0; i < outcomes.size(); i++) {
            GiannaOutcome o = outcomes.get(i);
            if (updated[i] == 0 || o.verdict() == null) {
              continue;
            }
            switch (o.verdict().action()) {
              case OPT_OUT -> {
                if (optOut(c, tenantId, o)) {
                  handOver.add(o.handOver());
                  optedOut.put(o.reply().phone(), o.at());
                }
              }
              case ANSWER -> handOver.add(o.handOver());
              case REVIEW -> reviews.add(review(o, reviewIds.get(i)));
            }
            audits.add(audit(o, reviewIds.get(i)));
            if (o.classification() instanceof Classification.Classified k) {
              lastCategory.put(o.reply().phone(), k.category().code());
            }
          }
          ReviewRepository.insert(c, tenantId, reviews);
          AuditRepository.insert(c, tenantId, audits);
          handOff(c, tenantId, handOver);
          conversations(c, optedOut, lastCategory);
          return handOver;
        });
  }

  /**
   * The batch's people's conversation rows: opted out, the latest category. Last in the transaction
   * and locked in key order first, so they are held only until the commit (the inbox upserts them
   * in every batch) and batches recorded at the same time, and the inbox, which writes them in key
   * order too, wait for each other instead of deadlocking.
   */
  private static void conversations(
      Connection c, Map<String, Instant> optedOut, Map<String, String> lastCategory)
      throws SQLException {
    TreeSet<String> phones = new TreeSet<>(optedOut.keySet());
    phones.addAll(lastCategory.keySet());
    if (phones.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "select phone from conversations where phone = any(?) order by phone for update")) {
      ps.setArray(1, texts(c, List.copyOf(phones)));
      ps.executeQuery().close();
    }
    for (Map.Entry<String, Instant> e : optedOut.entrySet()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "update conversations set opted_out = true, opted_out_at = ? where phone = ?")) {
        ps.setTimestamp(1, Timestamp.from(e.getValue()));
        ps.setString(2, e.getKey());
        ps.executeUpdate();
      }
    }
    lastClassification(c, lastCategory);
  }

  /**
   * Replies recorded but not handed over yet, oldest first, but for those in reply to a reply in
   * flight (the pass that recorded them is handing them over).
   */
  @Override
  public List<Reply> notHandedOver(String tenantId, Collection<String> inFlight) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select reply_key, kind, provider, from_number, phone, body, in_reply_to"
                      + " from agent_handoffs where in_reply_to is null or in_reply_to <> all(?)"
                      + " order by created_at, reply_key")) {
            ps.setArray(1, texts(c, List.copyOf(inFlight)));
            List<Reply> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Reply(
                        rs.getString(1),
                        Reply.Kind.valueOf(rs.getString(2)),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7)));
              }
            }
            return out;
          }
        });
  }

  /**
   * Approved {@code reply} reviews whose row still says {@code review} (a crash came between the
   * decision and its hand-over): their answers join the hand-overs now. It reads every approved
   * review of the tenant, so Gianna runs it now and then, not on every pass.
   */
  @Override
  public void catchUp(String tenantId) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          catchUp(c, tenantId);
          return null;
        });
  }

  private static void catchUp(Connection c, String tenantId) throws SQLException {
    // A nested loop here goes quadratic when the estimates are off (a young table, never
    // analyzed: 17 s for 6,400 open reviews in the classify benchmark); a hash join reads each
    // side once.
    try (var st = c.createStatement()) {
      st.execute("set local enable_nestloop = off");
    }
    // The row first, as decided() does: of two racing, the second finds it no longer 'review'.
    List<Reply> late = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "update conversation_messages m set agent_action = 'approved' from reviews r where"
                + " m.review_id = r.review_id and r.kind = ? and r.status = 'approved' and"
                + " m.agent_action = 'review' returning r.review_id, r.draft::text")) {
      ps.setString(1, REVIEW_KIND);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Reply answer =
              ReplyReviews.answer(
                  new Review(
                      rs.getString(1),
                      0,
                      REVIEW_KIND,
                      null,
                      null,
                      readDraft(rs.getString(2)),
                      null,
                      null,
                      null,
                      null));
          if (answer != null) {
            late.add(answer);
          }
        }
      }
    }
    handOff(c, tenantId, late);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readDraft(String json) {
    try {
      return JSON.readValue(json, Map.class);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("a review's draft is not JSON", e);
    }
  }

  /** The Conversations have these replies. */
  @Override
  public void handedOver(String tenantId, List<String> replyKeys) {
    if (replyKeys.isEmpty()) {
      return;
    }
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("delete from agent_handoffs where reply_key = any(?)")) {
            ps.setArray(1, c.createArrayOf("text", replyKeys.toArray()));
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public void decided(String tenantId, String reviewId, boolean approved, Reply answer) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          int changed;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update conversation_messages set agent_action = ? where review_id = ? and"
                      + " agent_action = 'review'")) {
            ps.setString(1, approved ? "approved" : "rejected");
            ps.setString(2, reviewId);
            changed = ps.executeUpdate();
          }
          // None changed: Gianna's catch-up handed it over already.
          if (changed > 0 && approved && answer != null) {
            handOff(c, tenantId, List.of(answer));
            WorkMarkers.add(c, GIANNA, List.of(tenantId));
          }
          return null;
        });
  }

  /** Removes Gianna's marker if no reply waits for her and nothing waits to be handed over. */
  @Override
  public void settle(String tenantId) {
    WorkMarkers.removeIfDone(
        tenantJdbc, tenantId, GIANNA, tenantId, STILL_WORK, tenantId, tenantId);
  }

  // ---- one outcome ----

  /**
   * Adds the person's opt-out (never removes one) with its audit row; answers whether it is new.
   */
  private static boolean optOut(Connection c, String tenantId, GiannaOutcome o)
      throws SQLException {
    Instant now = o.at();
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into opt_outs (tenant_id, phone, opted_out_at, source, detail) values (?, ?, ?,"
                + " 'agent:gianna', ?) on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setString(2, o.reply().phone());
      ps.setTimestamp(3, Timestamp.from(now));
      ps.setString(4, o.reply().provider() + ":" + o.reply().key());
      if (ps.executeUpdate() == 0) {
        return false;
      }
    }
    ObjectNode detail = JSON.createObjectNode().put("via", "gianna").put("reply", o.reply().key());
    AuditRepository.insert(
        c, tenantId, now, Gianna.AGENT, "opt-out", o.reply().phone(), detail.toString());
    // Its conversation row says so at the end of the transaction (see conversations()).
    return true;
  }

  /** The id of the reply's review item (one reply has at most one). */
  private static String reviewId(GiannaOutcome o) {
    return "rev_" + Reply.key("x", "reply:" + o.reply().key()).substring(2, 26);
  }

  /** The review queue's item {@code id}: the reply's drafted answer. */
  private static ReviewRepository.Row review(GiannaOutcome o, String id) {
    Map<String, Object> draft = new LinkedHashMap<>();
    draft.put("answer", o.verdict().answer());
    draft.put("phone", o.reply().phone());
    draft.put("inReplyTo", o.reply().key());
    draft.put("reply", o.reply().body());
    draft.put("provider", o.reply().provider());
    draft.put("from", o.reply().to());
    if (o.classification() instanceof Classification.Classified k) {
      draft.put("category", k.category().code());
      draft.put("confidence", k.confidence());
    }
    draft.put("why", o.verdict().why());
    String body = o.reply().body() == null ? "" : o.reply().body();
    String summary =
        (o.classification() instanceof Classification.Classified k
                ? k.category().code() + " (" + k.confidence() + ")"
                : "unclassified")
            + " from "
            + o.reply().phone()
            + ": "
            + (body.length() > SUMMARY_BODY ? body.substring(0, SUMMARY_BODY) + "..." : body);
    return new ReviewRepository.Row(
        new Review.Request(id, REVIEW_KIND, o.reply().phone(), summary, draft), o.at());
  }

  /** The decision in the audit trail: input, output, confidence, classifier, action and why. */
  private static AuditRepository.Row audit(GiannaOutcome o, String reviewId) {
    ObjectNode d = JSON.createObjectNode();
    String body = o.reply().body() == null ? "" : o.reply().body();
    d.put("message", o.reply().key());
    d.put("input", body.length() > SUMMARY_BODY ? body.substring(0, SUMMARY_BODY) + "..." : body);
    if (o.classification() instanceof Classification.Classified k) {
      d.put("category", k.category().code());
      d.put("confidence", k.confidence());
      d.put("classifier", k.classifier());
    } else if (o.classification() instanceof Classification.Failed f) {
      d.put("failure", f.reason());
      d.put("classifier", f.classifier());
    }
    d.put("action", o.verdict().action().name().toLowerCase(Locale.ROOT));
    d.put("why", o.verdict().why());
    if (o.verdict().answer() != null) {
      d.put("answer", o.verdict().answer());
    }
    if (reviewId != null) {
      d.put("review", reviewId);
    }
    return new AuditRepository.Row(
        o.at(),
        Gianna.AGENT,
        "gianna." + o.verdict().action().name().toLowerCase(Locale.ROOT),
        o.reply().phone(),
        d.toString());
  }

  /**
   * The replies' rows: what Gianna made of each, or when to try again, in one round trip (a JDBC
   * batch); answers, for each, whether it was still waiting for her (else it is left unchanged).
   */
  private static int[] update(Connection c, List<GiannaOutcome> outcomes, List<String> reviewIds)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "update conversation_messages set classify_state = ?, classify_attempts ="
                + " classify_attempts + ?, classify_after = ?, category = ?, confidence = ?,"
                + " classifier = ?, agent_action = ?, agent_detail = ?, review_id = ?,"
                + " classified_at = ? where phone = ? and message_key = ?"
                + " and classify_state = 'pending'")) {
      for (int i = 0; i < outcomes.size(); i++) {
        GiannaOutcome o = outcomes.get(i);
        String state;
        if (o.retryAt() != null) {
          state = "pending";
        } else if (o.verdict() == null) {
          state = "skipped";
        } else {
          state = o.classification() instanceof Classification.Failed ? "failed" : "done";
        }
        Classification.Classified k =
            o.classification() instanceof Classification.Classified x ? x : null;
        String classifier =
            k != null
                ? k.classifier()
                : o.classification() instanceof Classification.Failed f ? f.classifier() : null;
        String detail =
            o.verdict() != null
                ? o.verdict().why()
                : o.classification() instanceof Classification.Failed f
                    ? f.reason()
                    : "gianna is off";
        ps.setString(1, state);
        ps.setInt(2, o.classification() == null ? 0 : 1);
        ps.setTimestamp(3, o.retryAt() == null ? null : Timestamp.from(o.retryAt()));
        ps.setString(4, k == null ? null : k.category().code());
        ps.setObject(5, k == null ? null : k.confidence());
        ps.setString(6, classifier);
        ps.setString(
            7, o.verdict() == null ? null : o.verdict().action().name().toLowerCase(Locale.ROOT));
        ps.setString(8, detail);
        ps.setString(9, reviewIds.get(i));
        ps.setTimestamp(10, o.retryAt() == null ? Timestamp.from(o.at()) : null);
        ps.setString(11, o.reply().phone());
        ps.setString(12, o.reply().key());
        ps.addBatch();
      }
      return ps.executeBatch();
    }
  }

  private static void handOff(Connection c, String tenantId, List<Reply> replies)
      throws SQLException {
    if (replies.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into agent_handoffs (tenant_id, reply_key, phone, kind, provider, from_number,"
                + " body, in_reply_to, created_at) select ?, k, ph, kd, pr, fr, b, irt, now()"
                + " from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
                + " ?::text[]) as t(k, ph, kd, pr, fr, b, irt) on conflict do nothing")) {
      ps.setString(1, tenantId);
      ps.setArray(2, texts(c, replies.stream().map(Reply::key).toList()));
      ps.setArray(3, texts(c, replies.stream().map(Reply::to).toList()));
      ps.setArray(4, texts(c, replies.stream().map(r -> r.kind().name()).toList()));
      ps.setArray(5, texts(c, replies.stream().map(Reply::provider).toList()));
      ps.setArray(6, texts(c, replies.stream().map(Reply::from).toList()));
      ps.setArray(7, texts(c, replies.stream().map(Reply::body).toList()));
      ps.setArray(8, texts(c, replies.stream().map(Reply::inReplyTo).toList()));
      ps.executeUpdate();
    }
  }

  private static void lastClassification(Connection c, Map<String, String> categories)
      throws SQLException {
    if (categories.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update conversations v set last_classification = t.cat from unnest(?::text[],"
                + " ?::text[]) as t(ph, cat) where v.phone = t.ph")) {
      ps.setArray(1, texts(c, List.copyOf(categories.keySet())));
      ps.setArray(2, texts(c, List.copyOf(categories.values())));
      ps.executeUpdate();
    }
  }

  private static Array texts(Connection c, List<String> values) throws SQLException {
    return c.createArrayOf("text", values.toArray());
  }
}
