package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.Refused;
import io.outreach.engine.enrichment.EnrichedPerson;
import io.outreach.engine.enrichment.EnrichmentProvider;
import io.outreach.engine.enrichment.EnrichmentStore;
import io.outreach.engine.enrichment.EnrichmentView;
import io.outreach.engine.enrichment.JobSource;
import io.outreach.engine.enrichment.PersonQuery;
import io.outreach.engine.spend.SpendLedger;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * LUCI's jobs in PostgreSQL ({@code enrichment_jobs}, {@code enrichment_job_leads}, {@code
 * enrichment_batches}, {@code enrichment_cache}, see V14). A job's acceptance (its leads, its
 * review, the tenant's {@code Luci} marker, the audit) is one transaction, and so is each provider
 * call's answer (the leads filled, the cache, the counts and the batch row that makes a repeat
 * count for nothing).
 */
public final class EnrichmentRepository implements EnrichmentStore {
  /** The resumable-work marker of a tenant's Luci (entity type, entity id: the tenant). */
  public static final String MARKER = "Luci";

  /** Pending leads one {@link #prepare} walks at most (cache hits are written as it goes). */
  static final int WALK = 500;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String UNFINISHED =
      "select 1 from enrichment_jobs where tenant_id = ? and status in ('awaiting_approval',"
          + " 'queued', 'running')";
  private static final String COLUMNS =
      "job_id, status, import_id, leads, uncached, matched, not_found, cached, skipped, batches,"
          + " credits, cost_micros, estimate_micros, review_id, held_by, reason, detail,"
          + " created_by, created_at, started_at, finished_at";

  private final TenantJdbc tenantJdbc;

  public EnrichmentRepository(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  @Override
  public EnrichmentView create(
      String tenantId,
      String jobId,
      JobSource source,
      String actor,
      Instant cachedSince,
      Instant now,
      Terms terms) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          int leads =
              source.importId() != null
                  ? copyImport(c, tenantId, jobId, source.importId())
                  : copyLeads(c, tenantId, jobId, source.leadIds());
          if (leads == 0) {
            throw Refused.invalid("the import has no leads to enrich");
          }
          int uncached = uncached(c, jobId, cachedSince);
          JobTerms t = terms.of(leads, uncached);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into enrichment_jobs (tenant_id, job_id, status, import_id, leads,"
                      + " uncached, estimate_micros, review_id, created_by, created_at) values"
                      + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, tenantId);
            ps.setString(2, jobId);
            ps.setString(
                3,
                (t.review() != null
                        ? EnrichmentView.Status.AWAITING_APPROVAL
                        : EnrichmentView.Status.QUEUED)
                    .code());
            ps.setString(4, source.importId());
            ps.setInt(5, leads);
            ps.setInt(6, uncached);
            ps.setLong(7, t.estimateMicros());
            ps.setString(8, t.review() == null ? null : t.review().id());
            ps.setString(9, actor);
            ps.setTimestamp(10, Timestamp.from(now));
            ps.executeUpdate();
          }
          if (t.review() != null) {
            ReviewRepository.insert(c, tenantId, t.review(), now);
          }
          WorkMarkers.add(c, MARKER, List.of(tenantId));
          ObjectNode detail = JSON.createObjectNode();
          detail.put("leads", leads);
          detail.put("uncached", uncached);
          detail.put("estimateMicros", t.estimateMicros());
          detail.put("awaitingApproval", t.review() != null);
          if (source.importId() != null) {
            detail.put("importId", source.importId());
          }
          AuditRepository.insert(
              c, tenantId, now, actor, "enrichment.requested", jobId, detail.toString());
          return view(c, jobId).orElseThrow();
        });
  }

  private static int copyImport(Connection c, String tenantId, String jobId, String importId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select status from imports where import_id = ?")) {
      ps.setString(1, importId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw Refused.invalid("unknown import " + importId);
        }
        String status = rs.getString(1);
        if (status.equals("running")) {
          throw Refused.conflict("import " + importId + " is still running");
        }
        if (!status.equals("completed")) {
          throw Refused.invalid("import " + importId + " failed; it has no leads");
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into enrichment_job_leads (tenant_id, job_id, seq, lead_id) select ?, ?,"
                + " row_number() over (order by seq), lead_id from leads where import_id = ?")) {
      ps.setString(1, tenantId);
      ps.setString(2, jobId);
      ps.setString(3, importId);
      return ps.executeUpdate();
    }
  }

  /** Copies the named leads in request order; any id the tenant does not have refuses all. */
  private static int copyLeads(Connection c, String tenantId, String jobId, List<UUID> ids)
      throws SQLException {
    Object[] distinct = new LinkedHashSet<>(ids).stream().map(UUID::toString).toArray();
    int copied;
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into enrichment_job_leads (tenant_id, job_id, seq, lead_id) select ?, ?,"
                + " t.ord, l.lead_id from unnest(?::uuid[]) with ordinality as t(id, ord)"
                + " join leads l on l.lead_id = t.id")) {
      ps.setString(1, tenantId);
      ps.setString(2, jobId);
      ps.setArray(3, c.createArrayOf("uuid", distinct));
      copied = ps.executeUpdate();
    }
    if (copied < distinct.length) {
      List<String> unknown = new ArrayList<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "select t.id::text from unnest(?::uuid[]) as t(id) where not exists (select 1"
                  + " from leads l where l.lead_id = t.id) limit 5")) {
        ps.setArray(1, c.createArrayOf("uuid", distinct));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            unknown.add(rs.getString(1));
          }
        }
      }
      throw Refused.invalid(
          (distinct.length - copied)
              + " lead ids do not exist, e.g. "
              + String.join(", ", unknown));
    }
    return copied;
  }

  /** The job's leads the provider can match and the cache does not hold since {@code since}. */
  private static int uncached(Connection c, String jobId, Instant since) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select count(*) from enrichment_job_leads j join leads l on l.tenant_id ="
                + " j.tenant_id and l.lead_id = j.lead_id where j.job_id = ? and "
                + LeadEnrichment.MATCHABLE
                + " and not exists (select 1 from enrichment_cache e where e.tenant_id ="
                + " l.tenant_id and e.identity = "
                + LeadEnrichment.IDENTITY
                + " and e.enriched_at >= ?)")) {
      ps.setString(1, jobId);
      ps.setTimestamp(2, Timestamp.from(since));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  @Override
  public Optional<EnrichmentView> view(String tenantId, String jobId) {
    return tenantJdbc.inTenant(tenantId, c -> view(c, jobId));
  }

  @Override
  public boolean approve(String tenantId, String jobId, String actor, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          WorkMarkers.add(c, MARKER, List.of(tenantId));
          return update(
                  c,
                  "update enrichment_jobs set status = 'queued' where job_id = ? and status ="
                      + " 'awaiting_approval'",
                  jobId)
              > 0;
        });
  }

  @Override
  public boolean reject(String tenantId, String jobId, String actor, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_jobs set status = 'rejected', reason = 'rejected', detail ="
                      + " ?, finished_at = ? where job_id = ? and status = 'awaiting_approval'")) {
            ps.setString(1, "rejected by " + actor);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setString(3, jobId);
            return ps.executeUpdate() > 0;
          }
        });
  }

  @Override
  public Next next(String tenantId, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          List<String> rejected = new ArrayList<>();
          // Decisions a crash left unapplied (the review is decided, the job still awaits).
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_jobs j set status = case when r.status = 'approved' then"
                      + " 'queued' else 'rejected' end, reason = case when r.status = 'approved'"
                      + " then null else 'rejected' end, detail = case when r.status ="
                      + " 'approved' then null else 'rejected by ' || r.decided_by end,"
                      + " finished_at = case when r.status = 'approved' then null else"
                      + " ?::timestamptz end"
                      + " from reviews r where r.tenant_id = j.tenant_id and r.review_id ="
                      + " j.review_id and j.status = 'awaiting_approval' and r.status <>"
                      + " 'pending' returning j.job_id, j.status")) {
            ps.setTimestamp(1, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                if (rs.getString(2).equals("rejected")) {
                  rejected.add(rs.getString(1));
                }
              }
            }
          }
          String jobId = null;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select job_id from enrichment_jobs where status in ('queued', 'running')"
                      + " order by seq limit 1 for update")) {
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next()) {
                jobId = rs.getString(1);
              }
            }
          }
          if (jobId == null) {
            return new Next(Optional.empty(), rejected);
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_jobs set status = 'running', started_at ="
                      + " coalesce(started_at, ?) where job_id = ?")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, jobId);
            ps.executeUpdate();
          }
          return new Next(view(c, jobId), rejected);
        });
  }

  @Override
  public Batch prepare(
      String tenantId, String jobId, int maxCalls, Instant cachedSince, Instant now) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          int batchNo = 1 + intOf(c, "select batches from enrichment_jobs where job_id = ?", jobId);
          List<Pending> toCall = new ArrayList<>();
          List<Integer> seqs = new ArrayList<>();
          List<String> outcomes = new ArrayList<>();
          boolean needsCall = false;
          boolean more = false;
          int rows = 0;
          int cached = 0;
          int skipped = 0;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select j.seq, j.lead_id, l.lead_id is null, l.email, l.first_name,"
                      + " l.last_name, l.company, e.found, e.person::text from"
                      + " enrichment_job_leads j left join leads l on l.tenant_id = j.tenant_id"
                      + " and l.lead_id = j.lead_id left join enrichment_cache e on e.tenant_id"
                      + " = j.tenant_id and e.identity = "
                      + LeadEnrichment.IDENTITY
                      + " and e.enriched_at >= ? where j.job_id = ? and j.outcome = 'pending'"
                      + " order by j.seq limit ?")) {
            ps.setTimestamp(1, Timestamp.from(cachedSince));
            ps.setString(2, jobId);
            ps.setInt(3, WALK);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows++;
                int seq = rs.getInt(1);
                UUID leadId = rs.getObject(2, UUID.class);
                PersonQuery q =
                    new PersonQuery(
                        rs.getString(5), rs.getString(6), rs.getString(4), rs.getString(7));
                String outcome;
                if (rs.getBoolean(3) || (rs.getObject(8) == null && !q.matchable())) {
                  outcome = "skipped";
                  skipped++;
                } else if (rs.getObject(8) != null) {
                  boolean found = rs.getBoolean(8);
                  if (found) {
                    LeadEnrichment.fill(c, leadId, LeadEnrichment.person(rs.getString(9)), now);
                  }
                  outcome = found ? "cached" : "cached_not_found";
                  cached++;
                } else if (toCall.size() < maxCalls) {
                  toCall.add(new Pending(seq, leadId, q));
                  continue;
                } else {
                  needsCall = toCall.isEmpty();
                  more = true;
                  break;
                }
                seqs.add(seq);
                outcomes.add(outcome);
              }
            }
          }
          if (rows == WALK) {
            more = true;
          }
          if (!seqs.isEmpty()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "update enrichment_job_leads j set outcome = t.o from unnest(?::int[],"
                        + " ?::text[]) as t(s, o) where j.job_id = ? and j.seq = t.s")) {
              ps.setArray(1, c.createArrayOf("int", seqs.toArray()));
              ps.setArray(2, c.createArrayOf("text", outcomes.toArray()));
              ps.setString(3, jobId);
              ps.executeUpdate();
            }
            try (PreparedStatement ps =
                c.prepareStatement(
                    "update enrichment_jobs set cached = cached + ?, skipped = skipped + ?"
                        + " where job_id = ?")) {
              ps.setInt(1, cached);
              ps.setInt(2, skipped);
              ps.setString(3, jobId);
              ps.executeUpdate();
            }
          }
          return new Batch(batchNo, List.copyOf(toCall), needsCall, more);
        });
  }

  @Override
  public void apply(
      String tenantId,
      String jobId,
      Batch batch,
      List<EnrichedPerson> found,
      BigDecimal credits,
      long costMicros,
      Instant now) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          int matched = 0;
          for (int i = 0; i < batch.toCall().size(); i++) {
            if (i < found.size() && found.get(i) != null) {
              matched++;
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into enrichment_batches (tenant_id, job_id, batch_no, people, matched,"
                      + " credits, cost_micros, at) values (?, ?, ?, ?, ?, ?, ?, ?)"
                      + " on conflict do nothing")) {
            ps.setString(1, tenantId);
            ps.setString(2, jobId);
            ps.setInt(3, batch.batchNo());
            ps.setInt(4, batch.toCall().size());
            ps.setInt(5, matched);
            ps.setBigDecimal(6, credits);
            ps.setLong(7, costMicros);
            ps.setTimestamp(8, Timestamp.from(now));
            if (ps.executeUpdate() == 0) {
              return null; // written before: a repeat changes nothing
            }
          }
          List<Integer> seqs = new ArrayList<>();
          List<String> outcomes = new ArrayList<>();
          for (int i = 0; i < batch.toCall().size(); i++) {
            Pending p = batch.toCall().get(i);
            EnrichedPerson person = i < found.size() ? found.get(i) : null;
            if (person != null) {
              LeadEnrichment.fill(c, p.leadId(), person, now);
            }
            LeadEnrichment.cache(c, jobId, p.leadId(), person, EnrichmentProvider.APOLLO, now);
            seqs.add(p.seq());
            outcomes.add(person != null ? "matched" : "not_found");
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_job_leads j set outcome = t.o from unnest(?::int[],"
                      + " ?::text[]) as t(s, o) where j.job_id = ? and j.seq = t.s")) {
            ps.setArray(1, c.createArrayOf("int", seqs.toArray()));
            ps.setArray(2, c.createArrayOf("text", outcomes.toArray()));
            ps.setString(3, jobId);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_jobs set matched = matched + ?, not_found = not_found + ?,"
                      + " batches = greatest(batches, ?), credits = credits + ?, cost_micros ="
                      + " cost_micros + ? where job_id = ?")) {
            ps.setInt(1, matched);
            ps.setInt(2, batch.toCall().size() - matched);
            ps.setInt(3, batch.batchNo());
            ps.setBigDecimal(4, credits);
            ps.setLong(5, costMicros);
            ps.setString(6, jobId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<SpendLedger.Charge> charges(String tenantId, String jobId) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select batch_no, cost_micros from enrichment_batches where job_id = ?"
                      + " order by batch_no")) {
            ps.setString(1, jobId);
            List<SpendLedger.Charge> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(new SpendLedger.Charge(jobId + ":" + rs.getInt(1), rs.getLong(2)));
              }
            }
            return out;
          }
        });
  }

  @Override
  public void held(String tenantId, String jobId, String heldBy) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("update enrichment_jobs set held_by = ? where job_id = ?")) {
            ps.setString(1, heldBy);
            ps.setString(2, jobId);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public void finish(
      String tenantId,
      String jobId,
      EnrichmentView.Status status,
      String reason,
      String detail,
      Instant now) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "update enrichment_jobs set status = ?, reason = ?, detail = ?, held_by ="
                      + " null, finished_at = ? where job_id = ? and status = 'running'")) {
            ps.setString(1, status.code());
            ps.setString(2, reason);
            ps.setString(3, detail);
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setString(5, jobId);
            if (ps.executeUpdate() == 0) {
              return null;
            }
          }
          EnrichmentView v = view(c, jobId).orElseThrow();
          ObjectNode d = JSON.createObjectNode();
          d.put("matched", v.matched());
          d.put("notFound", v.notFound());
          d.put("cached", v.cached());
          d.put("skipped", v.skipped());
          d.put("pending", v.pending());
          d.put("credits", v.credits());
          d.put("costMicros", v.costMicros());
          if (reason != null) {
            d.put("reason", reason);
            d.put("detail", detail);
          }
          AuditRepository.insert(
              c, tenantId, now, "luci", "enrichment." + status.code(), jobId, d.toString());
          return null;
        });
  }

  @Override
  public void settle(String tenantId) {
    WorkMarkers.removeIfDone(tenantJdbc, tenantId, MARKER, tenantId, UNFINISHED, tenantId);
  }

  @Override
  public void campaignDrafted(
      String tenantId, String jobId, String campaignId, String actor, Instant now) {
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          String d = JSON.createObjectNode().put("campaignId", campaignId).toString();
          AuditRepository.insert(c, tenantId, now, actor, "enrichment.campaign-drafted", jobId, d);
          return null;
        });
  }

  private static Optional<EnrichmentView> view(Connection c, String jobId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select " + COLUMNS + " from enrichment_jobs where job_id = ?")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new EnrichmentView(
                rs.getString(1),
                EnrichmentView.Status.of(rs.getString(2)),
                rs.getString(3),
                rs.getInt(4),
                rs.getInt(5),
                rs.getInt(6),
                rs.getInt(7),
                rs.getInt(8),
                rs.getInt(9),
                rs.getInt(10),
                rs.getBigDecimal(11),
                rs.getLong(12),
                rs.getLong(13),
                rs.getString(14),
                rs.getString(15),
                rs.getString(16),
                rs.getString(17),
                rs.getString(18),
                instant(rs.getTimestamp(19)),
                instant(rs.getTimestamp(20)),
                instant(rs.getTimestamp(21))));
      }
    }
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  private static int update(Connection c, String sql, String param) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, param);
      return ps.executeUpdate();
    }
  }

  private static int intOf(Connection c, String sql, String param) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, param);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }
}
