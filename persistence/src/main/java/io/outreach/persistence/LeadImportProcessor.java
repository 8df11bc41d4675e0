package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.intake.ImportJob;
import io.outreach.engine.intake.ImportOutcome;
import io.outreach.engine.intake.ImportSpec;
import io.outreach.engine.intake.LeadIntake;
import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.lead.CsvFormatException;
import io.outreach.engine.lead.CsvRecord;
import io.outreach.engine.lead.CsvRecords;
import io.outreach.engine.lead.LeadColumns;
import io.outreach.engine.lead.LeadNormalizer;
import io.outreach.engine.lead.NormalizedLead;
import io.outreach.engine.lead.RowError;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a stored CSV in one tenant transaction: rows are parsed and normalized as they stream
 * from the file and COPYed into a session-local staging table (the database works on them while
 * the next rows are parsed), then deduplicated and merged into {@code leads} with a few
 * set-based statements. Memory stays constant in the file size. The outcome is written in the
 * same transaction, so the import is all-or-nothing and a re-run after a crash returns it
 * instead of importing twice.
 */
public final class LeadImportProcessor implements LeadIntake {
  private static final Logger log = LoggerFactory.getLogger(LeadImportProcessor.class);
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();
  private static final int PROGRESS_EVERY = 10_000;
  private static final String FIELDS =
      "phone, email, first_name, last_name, company, address, city, state, zip";

  private final TenantJdbc tenantJdbc;
  private final UploadStore uploads;
  private final ImportLedger ledger;
  private final Executor blocking;

  public LeadImportProcessor(
      TenantJdbc tenantJdbc, UploadStore uploads, ImportLedger ledger, Executor blocking) {
    this.tenantJdbc = tenantJdbc;
    this.uploads = uploads;
    this.ledger = ledger;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<ImportOutcome> process(ImportSpec spec, LongConsumer progress) {
    return CompletableFuture.supplyAsync(() -> processNow(spec, progress), blocking);
  }

  @Override
  public CompletionStage<Void> markFailed(String tenantId, String importId) {
    return CompletableFuture.runAsync(() -> ledger.markFailed(tenantId, importId), blocking);
  }

  ImportOutcome processNow(ImportSpec spec, LongConsumer progress) {
    long started = System.nanoTime();
    ImportOutcome outcome =
        tenantJdbc.inTenant(
            spec.tenantId(),
            c -> {
              Optional<ImportOutcome> done = storedOutcome(c, spec.importId());
              if (done.isPresent()) {
                return done.get();
              }
              createStaging(c, spec.tenantId());
              Staged staged = stage(c, spec, progress);
              long staging = System.nanoTime();
              long inserted = merge(c, spec.tenantId(), spec.importId());
              log.info(
                  "import {} staged {} rows in {} ms, merged in {} ms",
                  spec.importId(),
                  staged.rows,
                  (staging - started) / 1_000_000,
                  (System.nanoTime() - staging) / 1_000_000);
              ImportOutcome o =
                  new ImportOutcome(
                      staged.rows,
                      inserted,
                      staged.valid - inserted,
                      staged.rows - staged.valid,
                      staged.errorCount,
                      List.copyOf(staged.errors));
              finish(c, spec, o);
              return o;
            });
    log.info(
        "import {} processed {} rows in {} ms",
        spec.importId(),
        outcome.rows(),
        (System.nanoTime() - started) / 1_000_000);
    return outcome;
  }

  private static Optional<ImportOutcome> storedOutcome(Connection c, String importId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select status, outcome::text from imports where import_id = ?")) {
      ps.setString(1, importId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new PermanentFailure("import " + importId + " is not registered");
        }
        if ("completed".equals(rs.getString(1))) {
          return Optional.of(JSON.readValue(rs.getString(2), ImportOutcome.class));
        }
        return Optional.empty();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void createStaging(Connection c, String tenantId) throws SQLException {
    try (PreparedStatement lock =
        c.prepareStatement("select pg_advisory_xact_lock(hashtext('lead-import:' || ?))")) {
      lock.setString(1, tenantId);
      lock.execute();
    }
    try (Statement st = c.createStatement()) {
      // Imports of one tenant take turns: each sees the leads the previous one committed, so
      // two files with the same number never race to create the same lead.
      st.execute(
          "create temporary table import_rows (row_no bigint not null, lead_id uuid not null,"
              + " dedup_key text not null, "
              + "phone text, email text, first_name text, last_name text, company text, "
              + "address text, city text, state text, zip text, timezones text not null, "
              + "consent_at timestamptz, consent_source text, attributes jsonb not null)"
              + " on commit drop");
    }
  }

  /** What staging saw: data rows, valid rows, and the first row errors. */
  private static final class Staged {
    long rows;
    long valid;
    long errorCount;
    final List<RowError> errors = new ArrayList<>();
  }

  private Staged stage(Connection c, ImportSpec spec, LongConsumer progress) throws SQLException {
    Staged staged = new Staged();
    LeadNormalizer normalizer =
        new LeadNormalizer(spec.region(), ZoneId.of(spec.tenantTimezone()));
    PGConnection pg = c.unwrap(PGConnection.class);
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(
                    uploads.open(spec.tenantId(), spec.importId()), StandardCharsets.UTF_8),
                1 << 16);
        CsvRecords records = CsvRecords.open(in);
        Writer copy =
            new BufferedWriter(
                new OutputStreamWriter(
                    new PGCopyOutputStream(
                        pg,
                        "copy import_rows (row_no, lead_id, dedup_key, "
                            + FIELDS
                            + ", timezones, consent_at, consent_source, attributes) from stdin",
                        1 << 16),
                    StandardCharsets.UTF_8),
                1 << 16)) {
      LeadColumns columns = LeadColumns.of(records.header());
      if (columns.headerProblem().isPresent()) {
        throw new PermanentFailure(columns.headerProblem().get());
      }
      while (records.hasNext()) {
        CsvRecord record = records.next();
        staged.rows++;
        LeadNormalizer.Outcome result = normalizer.normalize(record, columns);
        if (result instanceof LeadNormalizer.Accepted accepted) {
          staged.valid++;
          writeRow(copy, accepted.lead());
        } else if (result instanceof LeadNormalizer.Rejected rejected) {
          for (RowError e : rejected.errors()) {
            staged.errorCount++;
            if (staged.errors.size() < ImportOutcome.MAX_ERRORS) {
              staged.errors.add(e);
            }
          }
        }
        if (staged.rows % PROGRESS_EVERY == 0) {
          progress.accept(staged.rows);
        }
      }
    } catch (CsvFormatException e) {
      throw new PermanentFailure(e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read upload " + spec.importId(), e);
    }
    progress.accept(staged.rows);
    return staged;
  }

  /** One row in COPY's text format: tab-separated, {@code \N} for null, backslash escapes. */
  private static void writeRow(Writer w, NormalizedLead lead) throws IOException {
    w.write(Long.toString(lead.row()));
    field(w, TimeOrderedIds.next().toString());
    field(w, lead.dedupKey());
    field(w, lead.phone());
    field(w, lead.email());
    field(w, lead.firstName());
    field(w, lead.lastName());
    field(w, lead.company());
    field(w, lead.address());
    field(w, lead.city());
    field(w, lead.state());
    field(w, lead.zip());
    field(w, String.join(",", lead.timezones()));
    field(w, lead.consentAt() == null ? null : lead.consentAt().toString());
    field(w, lead.consentSource());
    field(w, JSON.writeValueAsString(lead.attributes() == null ? Map.of() : lead.attributes()));
    w.write('\n');
  }

  private static void field(Writer w, String value) throws IOException {
    w.write('\t');
    if (value == null) {
      w.write("\\N");
      return;
    }
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\' -> w.write("\\\\");
        case '\t' -> w.write("\\t");
        case '\n' -> w.write("\\n");
        case '\r' -> w.write("\\r");
        default -> w.write(ch);
      }
    }
  }

  /**
   * Dedupes staged rows and merges them into {@code leads}; answers how many new leads it made.
   * Within the file the first row of a phone (or, without a phone, of an email) wins and later
   * rows only fill its empty fields; against existing leads the existing one wins the same way.
   */
  private static long merge(Connection c, String tenantId, String importId)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      // Hash aggregates and joins over a million rows stay in memory instead of spilling.
      st.execute("set local work_mem = '128MB'");
      // Temporary tables are never auto-analyzed; the planner needs their size for hash joins.
      st.execute("analyze import_rows");
      st.execute(
          "create temporary table dup_keys on commit drop as select dedup_key from import_rows"
              + " group by dedup_key having count(*) > 1");
      st.execute("analyze dup_keys");
      st.execute(
          "create temporary table import_leads on commit drop as "
              + "select r.row_no as first_row, r.lead_id, r.dedup_key, "
              + FIELDS
              + ", r.timezones, r.consent_at, r.consent_source, r.attributes from import_rows r "
              + "where not exists (select 1 from dup_keys d where d.dedup_key = r.dedup_key)");
      // Keys seen more than once: the first row's values, empty fields filled in row order;
      // attributes likewise key by key.
      st.execute(
          "insert into import_leads select g.*, coalesce(a.attributes, '{}'::jsonb) from ("
              + "select min(row_no) as first_row, (array_agg(lead_id order by row_no))[1], dedup_key, "
              + String.join(
                  ", ",
                  firstNonNull("phone"),
                  firstNonNull("email"),
                  firstNonNull("first_name"),
                  firstNonNull("last_name"),
                  firstNonNull("company"),
                  firstNonNull("address"),
                  firstNonNull("city"),
                  firstNonNull("state"),
                  firstNonNull("zip"),
                  "(array_agg(timezones order by row_no))[1]",
                  firstNonNull("consent_at"),
                  firstNonNull("consent_source"))
              + " from import_rows where dedup_key in (select dedup_key from dup_keys)"
              + " group by dedup_key) g left join ("
              + "select dedup_key, jsonb_object_agg(k, v) as attributes from ("
              + "select distinct on (x.dedup_key, e.k) x.dedup_key, e.k, e.v"
              + " from import_rows x join dup_keys using (dedup_key), jsonb_each(x.attributes) e(k, v)"
              + " order by x.dedup_key, e.k, x.row_no) y group by dedup_key) a using (dedup_key)");
      st.execute("analyze import_leads");
    }
    String insertColumns =
        "tenant_id, lead_id, "
            + FIELDS
            + ", timezones, consent_at, consent_source, attributes, import_id, created_at, updated_at";
    String selectColumns =
        "?, lead_id, "
            + FIELDS
            + ", string_to_array(timezones, ','), consent_at, consent_source, attributes, ?, now(), now()";
    String fill =
        "email = coalesce(l.email, i.email), first_name = coalesce(l.first_name, i.first_name), "
            + "last_name = coalesce(l.last_name, i.last_name), company = coalesce(l.company, i.company), "
            + "address = coalesce(l.address, i.address), city = coalesce(l.city, i.city), "
            + "state = coalesce(l.state, i.state), zip = coalesce(l.zip, i.zip), "
            + "consent_at = coalesce(l.consent_at, i.consent_at), "
            + "consent_source = coalesce(l.consent_source, i.consent_source), "
            + "attributes = i.attributes || l.attributes, updated_at = now()";
    long inserted = 0;
    // Rows with a phone match leads by phone; rows without one match any lead by email. Known
    // leads get their empty fields filled, the rest become new leads.
    for (String[] match :
        List.of(
            new String[] {"i.phone is not null", "l.phone = i.phone"},
            new String[] {"i.phone is null", "l.email = i.email"})) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "update leads l set " + fill + " from import_leads i where " + match[0] + " and " + match[1])) {
        ps.executeUpdate();
      }
      inserted +=
          count(
              c,
              "with added as (insert into leads ("
                  + insertColumns
                  + ") select "
                  + selectColumns
                  + " from import_leads i where "
                  + match[0]
                  + " and not exists (select 1 from leads l where "
                  + match[1]
                  + ") returning 1) select count(*) from added",
              tenantId,
              importId);
    }
    return inserted;
  }

  private static String firstNonNull(String column) {
    return "(array_agg(" + column + " order by row_no) filter (where " + column + " is not null))[1]";
  }

  private static long count(Connection c, String sql, String tenantId, String importId)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, tenantId);
      ps.setString(2, importId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void finish(Connection c, ImportSpec spec, ImportOutcome outcome)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "update imports set status = 'completed', outcome = ?::jsonb where import_id = ?")) {
      ps.setString(1, JSON.writeValueAsString(outcome));
      ps.setString(2, spec.importId());
      ps.executeUpdate();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ResumableWorkRepository.remove(c, ImportJob.ENTITY_TYPE_KEY.name(), spec.entityId());
  }
}
