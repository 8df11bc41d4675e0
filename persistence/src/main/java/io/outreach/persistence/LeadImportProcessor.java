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
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a stored CSV in one tenant transaction, all-or-nothing: the outcome is written in the
 * same transaction as the leads, so a re-run after a crash returns it instead of importing twice.
 *
 * <p>Two threads share the work, one per core of a small machine. A {@link RowFeed} thread reads,
 * parses and normalizes the file and encodes the valid rows as binary COPY data; the calling thread
 * COPYs them into a session-local staging table and merges them into {@code leads}, so the next
 * rows are normalized while the database inserts the previous ones. Memory stays constant in the
 * file size: at most {@link RowFeed#QUEUE_BLOCKS} blocks of rows are in flight.
 *
 * <p>Rows with a phone are merged in chunks of {@code chunkRows} as they arrive, optimistically:
 * each chunk is inserted under a savepoint as new leads, which is right as long as none of its
 * numbers is already a lead or repeated within the chunk — the unique phone index checks exactly
 * that while it inserts, at no extra cost. The first chunk that breaks it is rolled back to its
 * savepoint, and from there on every row is staged and merged at the end set-wise (see {@link
 * #mergeStaged}): earlier rows are then existing leads, which win as earlier rows of the file do.
 * Rows without a phone are always merged at the end, after every phone row, because they match any
 * lead with their email, including leads made from later rows of the same file.
 */
public final class LeadImportProcessor implements LeadIntake {
  private static final Logger log = LoggerFactory.getLogger(LeadImportProcessor.class);
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();
  private static final int PROGRESS_EVERY = 10_000;

  /**
   * Rows per optimistic chunk. Big enough that a chunk's fixed costs (savepoint, statements,
   * truncating the staging table) vanish next to inserting it, small enough that the staging table
   * stays in temporary buffers and the first chunk starts inserting early.
   */
  static final int CHUNK_ROWS = 65_536;

  /**
   * Savepoints per import at most: PostgreSQL tracks 64 subtransactions per backend cheaply; past
   * that, every other session's visibility checks of our rows get slower. A file of more than this
   * many chunks merges the rest set-wise at the end, which is as exact, only not overlapped.
   */
  static final int MAX_CHUNKS = 48;

  private static final String UNIQUE_VIOLATION = "23505";
  private static final String FIELDS =
      "phone, email, first_name, last_name, company, address, city, state, zip";
  private static final String STAGED_COLUMNS =
      "row_no, lead_id, " + FIELDS + ", timezones, consent_at, consent_source, attributes";
  private static final String LEAD_COLUMNS =
      "tenant_id, lead_id, "
          + FIELDS
          + ", timezones, consent_at, consent_source, attributes, import_id, created_at,"
          + " updated_at";
  private static final String LEAD_VALUES =
      "?, lead_id, "
          + FIELDS
          + ", timezones, consent_at, consent_source, attributes, ?, now(), now()";

  private final TenantJdbc tenantJdbc;
  private final UploadStore uploads;
  private final ImportLedger ledger;
  private final Executor blocking;
  private final int chunkRows;

  public LeadImportProcessor(
      TenantJdbc tenantJdbc, UploadStore uploads, ImportLedger ledger, Executor blocking) {
    this(tenantJdbc, uploads, ledger, blocking, CHUNK_ROWS);
  }

  /** With another chunk size: tests use tiny chunks to cross every chunk boundary. */
  LeadImportProcessor(
      TenantJdbc tenantJdbc,
      UploadStore uploads,
      ImportLedger ledger,
      Executor blocking,
      int chunkRows) {
    if (chunkRows < 1) {
      throw new IllegalArgumentException("chunkRows must be positive");
    }
    this.tenantJdbc = tenantJdbc;
    this.uploads = uploads;
    this.ledger = ledger;
    this.blocking = blocking;
    this.chunkRows = chunkRows;
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
              try (RowFeed feed = RowFeed.start(uploads, spec, progress)) {
                return new Run(c, spec).execute(feed, started);
              }
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
    // Imports of one tenant take turns: each sees the leads the previous one committed, so two
    // files with the same number never race to create the same lead.
    try (PreparedStatement lock =
        c.prepareStatement("select pg_advisory_xact_lock(hashtext('lead-import:' || ?))")) {
      lock.setString(1, tenantId);
      lock.execute();
    }
    try (Statement st = c.createStatement()) {
      // Typed like leads, so that merging copies values instead of converting them.
      st.execute(
          "create temporary table import_rows (row_no bigint not null, lead_id uuid not null,"
              + " phone text collate \"C\", email text collate \"C\", first_name text,"
              + " last_name text, company text, address text, city text, state text, zip text,"
              + " timezones text[] not null, consent_at timestamptz, consent_source text,"
              + " attributes jsonb not null) on commit drop");
      // Rows without a phone, kept for the end (see the class comment).
      st.execute("create temporary table import_emails (like import_rows) on commit drop");
    }
  }

  /** One import on its connection: stages, inserts and merges; answers the outcome. */
  private final class Run {
    private final Connection c;
    private final ImportSpec spec;
    private final CopyManager copies;
    private long inserted;
    private int chunks;
    private int insertedChunks;
    // From the first chunk that is not all new leads on, rows stay staged for mergeStaged.
    private boolean deferring;
    private String deferredBecause;
    private long stagedPhoneRows;
    private long stagedEmailOnlyRows;
    private long emailOnlyRows;
    private long insertingNanos;
    private long waitingNanos;

    Run(Connection c, ImportSpec spec) throws SQLException {
      this.c = c;
      this.spec = spec;
      this.copies = c.unwrap(PGConnection.class).getCopyAPI();
    }

    ImportOutcome execute(RowFeed feed, long started) throws SQLException {
      CopyIn copy = null;
      try {
        for (RowFeed.Block block = nextBlock(feed); block != null; block = nextBlock(feed)) {
          if (copy == null) {
            copy =
                copies.copyIn(
                    "copy import_rows (" + STAGED_COLUMNS + ") from stdin with (format binary)");
            copy.writeToCopy(CopyRows.HEADER, 0, CopyRows.HEADER.length);
          }
          copy.writeToCopy(block.bytes(), 0, block.length());
          feed.recycle(block);
          stagedPhoneRows += block.phoneRows();
          stagedEmailOnlyRows += block.emailOnlyRows();
          if (!deferring && stagedPhoneRows + stagedEmailOnlyRows >= chunkRows) {
            copy.writeToCopy(CopyRows.TRAILER, 0, CopyRows.TRAILER.length);
            copy.endCopy();
            copy = null;
            long insertStarted = System.nanoTime();
            insertChunk();
            insertingNanos += System.nanoTime() - insertStarted;
          }
        }
        if (copy != null) {
          copy.writeToCopy(CopyRows.TRAILER, 0, CopyRows.TRAILER.length);
          copy.endCopy();
          copy = null;
        }
      } finally {
        if (copy != null && copy.isActive()) {
          copy.cancelCopy();
        }
      }
      if (!deferring) {
        long insertStarted = System.nanoTime();
        insertChunk();
        insertingNanos += System.nanoTime() - insertStarted;
      }
      long staging = System.nanoTime();
      if (deferring) {
        log.info("import {}: {}; the rest is merged set-wise", spec.importId(), deferredBecause);
        inserted += mergeStaged("import_rows", "phone");
        moveEmailOnlyRows();
      }
      if (emailOnlyRows > 0) {
        inserted += mergeStaged("import_emails", "email");
      }
      RowFeed.Totals totals = feed.totals();
      // Where the time went: waiting for the reader means the database kept up with it.
      log.info(
          "import {}: {} rows; staged in {} ms ({} chunks inserted in {} ms, {} ms waiting for"
              + " rows); merged the rest in {} ms",
          spec.importId(),
          totals.rows(),
          (staging - started) / 1_000_000,
          insertedChunks,
          insertingNanos / 1_000_000,
          waitingNanos / 1_000_000,
          (System.nanoTime() - staging) / 1_000_000);
      ImportOutcome o =
          new ImportOutcome(
              totals.rows(),
              inserted,
              totals.valid() - inserted,
              totals.rows() - totals.valid(),
              totals.errorCount(),
              totals.errors());
      finish(c, spec, o);
      return o;
    }

    private RowFeed.Block nextBlock(RowFeed feed) {
      long asked = System.nanoTime();
      RowFeed.Block block = feed.next();
      waitingNanos += System.nanoTime() - asked;
      return block;
    }

    /**
     * Inserts the staged chunk's phone rows as new leads under a savepoint, and empties the staging
     * table. If a number is already a lead or repeats in the chunk, the unique index refuses the
     * insert: the chunk is rolled back and stays staged, and so does every later row.
     */
    private void insertChunk() throws SQLException {
      if (stagedPhoneRows > 0) {
        if (chunks == MAX_CHUNKS) {
          deferring = true;
          deferredBecause = "more than " + MAX_CHUNKS + " chunks";
          return;
        }
        chunks++;
        Savepoint savepoint = c.setSavepoint();
        try (PreparedStatement ps =
            c.prepareStatement(
                "insert into leads ("
                    + LEAD_COLUMNS
                    + ") select "
                    + LEAD_VALUES
                    + " from import_rows where phone is not null")) {
          ps.setString(1, spec.tenantId());
          ps.setString(2, spec.importId());
          inserted += ps.executeUpdate();
          c.releaseSavepoint(savepoint);
          insertedChunks++;
        } catch (SQLException e) {
          if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
            throw e;
          }
          c.rollback(savepoint);
          deferring = true;
          deferredBecause = "chunk " + chunks + " has numbers that are known or repeated";
          return;
        }
      }
      moveEmailOnlyRows();
      try (Statement st = c.createStatement()) {
        st.execute("truncate import_rows");
      }
      stagedPhoneRows = 0;
    }

    private void moveEmailOnlyRows() throws SQLException {
      if (stagedEmailOnlyRows > 0) {
        try (Statement st = c.createStatement()) {
          st.execute("insert into import_emails select * from import_rows where phone is null");
        }
        emailOnlyRows += stagedEmailOnlyRows;
        stagedEmailOnlyRows = 0;
      }
    }

    /**
     * Merges the rows staged in {@code table} into {@code leads}, two rows or a row and a lead
     * being the same when they have the same {@code key} (phone, or for phone-less rows email);
     * answers how many new leads it made. The first row of a key wins and later rows only fill its
     * empty fields (attributes key by key); a key that is already a lead (all leads with it, for an
     * email) gets its empty fields filled the same way.
     *
     * <p>Every plan here is linear in the staged rows and the leads they touch, whatever the
     * planner believes: right after a big import, {@code leads} has no statistics yet and the
     * planner takes a tenant's leads for a handful of rows, and a nested loop over them would be
     * quadratic (a million-row file of repeated numbers ran for 15 minutes before it was stopped).
     * So nested loops are off, joins are hash joins, and {@code leads} is only ever read by the
     * keys at hand ({@code key = any(array)}: index probes for phones, one filtered scan for
     * emails).
     */
    private long mergeStaged(String table, String key) throws SQLException {
      try (Statement st = c.createStatement()) {
        // Hash aggregates and joins over a million rows stay in memory instead of spilling.
        st.execute("set local work_mem = '128MB'");
        st.execute("set local enable_nestloop = off");
        // Temporary tables are never auto-analyzed; the planner needs their sizes.
        st.execute("analyze " + table);
        st.execute(
            merge(
                table,
                key,
                """
                create temporary table merge_dups on commit drop as
                select $key as key from $rows where $key is not null
                group by $key having count(*) > 1"""));
        st.execute(
            merge(
                table,
                key,
                """
                create temporary table merge_known on commit drop as
                select distinct l.$key as key from leads l
                where l.$key = any(array(select $key from $rows where $key is not null))"""));
        st.execute("analyze merge_dups");
        st.execute("analyze merge_known");
      }
      // Keys seen once and new: the rows as they are.
      long made =
          insertLeads(
              merge(
                  table,
                  key,
                  """
                  insert into leads ($leadColumns) select $leadValues from $rows r
                  where r.$key is not null
                    and not exists (select 1 from merge_dups d where d.key = r.$key)
                    and not exists (select 1 from merge_known k where k.key = r.$key)"""));
      try (Statement st = c.createStatement()) {
        // Repeated keys: the first row's id and zones, every other field the first non-empty
        // value in row order, attributes likewise key by key. Known keys seen once: the row.
        st.execute(
            merge(
                table,
                key,
                """
                create temporary table merge_groups on commit drop as
                select g.key, f.lead_id, $groupFields, f.timezones, g.consent_at,
                       g.consent_source, coalesce(a.attributes, '{}'::jsonb) as attributes,
                       g.first_row, (k.key is not null) as known
                from (select r.$key as key, min(r.row_no) as first_row, $firstNonNull
                      from $rows r where r.$key in (select key from merge_dups)
                      group by r.$key) g
                join $rows f on f.row_no = g.first_row
                left join merge_known k on k.key = g.key
                left join (select key, jsonb_object_agg(k, v) as attributes
                           from (select distinct on (x.$key, e.k) x.$key as key, e.k, e.v
                                 from $rows x, jsonb_each(x.attributes) e(k, v)
                                 where x.$key in (select key from merge_dups)
                                 order by x.$key, e.k, x.row_no) y
                           group by key) a on a.key = g.key
                union all
                select r.$key, r.lead_id, $rowFields, r.timezones, r.consent_at,
                       r.consent_source, r.attributes, r.row_no, true
                from $rows r join merge_known k on k.key = r.$key
                where not exists (select 1 from merge_dups d where d.key = r.$key)"""));
        st.execute("analyze merge_groups");
      }
      made +=
          insertLeads(
              merge(
                  table,
                  key,
                  """
                  insert into leads ($leadColumns)
                  select $leadValues from merge_groups where not known order by first_row"""));
      try (Statement st = c.createStatement()) {
        // A duplicate that fills nothing leaves its lead alone: re-importing a list rewrites
        // no row.
        st.executeUpdate(
            merge(
                table,
                key,
                """
                update leads l set $fill, attributes = g.attributes || l.attributes,
                                   updated_at = now()
                from merge_groups g
                where g.known and l.$key = g.key
                  and l.$key = any(array(select key from merge_known))
                  and ($fills or g.attributes || l.attributes <> l.attributes)"""));
        st.execute("drop table merge_dups, merge_known, merge_groups");
        st.execute("reset enable_nestloop");
      }
      return made;
    }

    /** Runs an insert of {@code LEAD_VALUES}; answers the leads it made. */
    private long insertLeads(String sql) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, spec.tenantId());
        ps.setString(2, spec.importId());
        return ps.executeUpdate();
      }
    }
  }

  /** The fields a later row may fill in, all but the key's own column. */
  private static final List<String> FILLABLE =
      List.of(
          "email",
          "first_name",
          "last_name",
          "company",
          "address",
          "city",
          "state",
          "zip",
          "consent_at",
          "consent_source");

  /** A statement of {@link Run#mergeStaged} for the rows in {@code table} keyed by {@code key}. */
  private static String merge(String table, String key, String template) {
    List<String> fields = List.of(FIELDS.split(", "));
    List<String> firstNonNull = new ArrayList<>();
    for (String f : fields) {
      firstNonNull.add(
          "(array_agg(r."
              + f
              + " order by r.row_no) filter (where r."
              + f
              + " is not null))[1]"
              + " as "
              + f);
    }
    firstNonNull.add(
        "(array_agg(r.consent_at order by r.row_no) filter (where r.consent_at is not null))[1]"
            + " as consent_at");
    firstNonNull.add(
        "(array_agg(r.consent_source order by r.row_no)"
            + " filter (where r.consent_source is not null))[1] as consent_source");
    List<String> fill = new ArrayList<>();
    List<String> fills = new ArrayList<>();
    for (String f : FILLABLE) {
      fill.add(f + " = coalesce(l." + f + ", g." + f + ")");
      fills.add("(l." + f + " is null and g." + f + " is not null)");
    }
    return template
        .replace("$leadColumns", LEAD_COLUMNS)
        .replace("$leadValues", LEAD_VALUES)
        .replace("$groupFields", String.join(", ", fields.stream().map(f -> "g." + f).toList()))
        .replace("$rowFields", String.join(", ", fields.stream().map(f -> "r." + f).toList()))
        .replace("$firstNonNull", String.join(",\n", firstNonNull))
        .replace("$fills", String.join(" or ", fills))
        .replace("$fill", String.join(", ", fill))
        .replace("$rows", table)
        .replace("$key", key);
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

  /**
   * The rows of an upload, read, parsed, normalized and encoded for COPY on a thread of its own,
   * handed over in blocks through a bounded queue (which bounds the memory an import holds). A
   * failure of the file (malformed CSV, an unusable header) reaches the consumer at the point in
   * the stream where it happened, as the exception the single-threaded reader would have thrown.
   */
  static final class RowFeed implements AutoCloseable {
    /** Bytes of COPY data per block (about 1,500 rows). */
    static final int BLOCK_BYTES = 1 << 18;

    /** Blocks in flight at most: about one chunk of rows, 12 MiB. */
    static final int QUEUE_BLOCKS = 48;

    /** COPY data of whole rows, and how many of them have a phone or only an email. */
    record Block(byte[] bytes, int length, int phoneRows, int emailOnlyRows) {}

    /** What the file held, once every block has been taken. */
    record Totals(long rows, long valid, long errorCount, List<RowError> errors) {}

    private static final Block END = new Block(new byte[0], 0, 0, 0);

    // Room for the longest row past BLOCK_BYTES, so a block's buffer is rarely regrown.
    private static final int BUFFER_BYTES = BLOCK_BYTES + (BLOCK_BYTES >> 2);

    private final BlockingQueue<Block> queue = new ArrayBlockingQueue<>(QUEUE_BLOCKS);
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(QUEUE_BLOCKS + 2);
    private final UploadStore uploads;
    private final ImportSpec spec;
    private final LongConsumer progress;
    private final Thread thread;
    private volatile boolean closed;
    // Written by the feed thread before it queues END, read by the consumer after taking END.
    private Totals totals;
    private RuntimeException failure;
    private boolean ended;

    private RowFeed(UploadStore uploads, ImportSpec spec, LongConsumer progress) {
      this.uploads = uploads;
      this.spec = spec;
      this.progress = progress;
      this.thread = new Thread(this::produce, "lead-import-" + spec.importId());
      thread.setDaemon(true);
    }

    static RowFeed start(UploadStore uploads, ImportSpec spec, LongConsumer progress) {
      RowFeed feed = new RowFeed(uploads, spec, progress);
      feed.thread.start();
      return feed;
    }

    /** The next block, or null once the file is done; throws what made the file fail. */
    Block next() {
      if (ended) {
        return null;
      }
      Block block;
      try {
        do {
          block = queue.poll(1, TimeUnit.SECONDS);
          if (block == null && !thread.isAlive() && queue.isEmpty()) {
            throw new IllegalStateException("the reader of " + spec.importId() + " stopped");
          }
        } while (block == null);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while importing " + spec.importId(), e);
      }
      if (block == END) {
        ended = true;
        if (failure != null) {
          throw failure;
        }
        return null;
      }
      return block;
    }

    /** Counts and row errors; only after {@link #next} answered null. */
    Totals totals() {
      if (!ended || totals == null) {
        throw new IllegalStateException("the feed has not ended");
      }
      return totals;
    }

    /** Stops the feed thread if it is still reading (the import failed) and waits for it. */
    @Override
    public void close() {
      closed = true;
      thread.interrupt();
      queue.clear();
      try {
        thread.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void produce() {
      try {
        totals = read();
      } catch (CsvFormatException e) {
        failure = new PermanentFailure(e.getMessage());
      } catch (IOException e) {
        failure = new UncheckedIOException("cannot read upload " + spec.importId(), e);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        failure = e;
      } catch (Error e) {
        // Still reach the consumer, which would otherwise wait for END forever.
        failure = new IllegalStateException("reading upload " + spec.importId() + " failed", e);
      }
      try {
        put(END);
      } catch (InterruptedException e) {
        // The consumer is gone.
      }
    }

    private Totals read() throws IOException, InterruptedException {
      long rows = 0;
      long valid = 0;
      long errorCount = 0;
      List<RowError> errors = new ArrayList<>();
      LeadNormalizer normalizer =
          new LeadNormalizer(spec.region(), ZoneId.of(spec.tenantTimezone()));
      CopyRows out = new CopyRows(buffer());
      int phoneRows = 0;
      int emailOnlyRows = 0;
      try (BufferedReader in =
              new BufferedReader(
                  new InputStreamReader(
                      uploads.open(spec.tenantId(), spec.importId()), StandardCharsets.UTF_8),
                  1 << 16);
          CsvRecords records = CsvRecords.open(in)) {
        LeadColumns columns = LeadColumns.of(records.header());
        if (columns.headerProblem().isPresent()) {
          throw new PermanentFailure(columns.headerProblem().get());
        }
        while (records.hasNext()) {
          CsvRecord record = records.next();
          rows++;
          LeadNormalizer.Outcome result = normalizer.normalize(record, columns);
          if (result instanceof LeadNormalizer.Accepted accepted) {
            valid++;
            NormalizedLead lead = accepted.lead();
            out.row(lead, TimeOrderedIds.next());
            if (lead.phone() != null) {
              phoneRows++;
            } else {
              emailOnlyRows++;
            }
            if (out.length() >= BLOCK_BYTES) {
              put(new Block(out.bytes(), out.length(), phoneRows, emailOnlyRows));
              out = new CopyRows(buffer());
              phoneRows = 0;
              emailOnlyRows = 0;
            }
          } else if (result instanceof LeadNormalizer.Rejected rejected) {
            for (RowError e : rejected.errors()) {
              errorCount++;
              if (errors.size() < ImportOutcome.MAX_ERRORS) {
                errors.add(e);
              }
            }
          }
          if (rows % PROGRESS_EVERY == 0) {
            progress.accept(rows);
          }
        }
      }
      if (out.length() > 0) {
        put(new Block(out.bytes(), out.length(), phoneRows, emailOnlyRows));
      }
      progress.accept(rows);
      return new Totals(rows, valid, errorCount, List.copyOf(errors));
    }

    /** Gives a block's bytes back once they are sent, so the reader reuses them. */
    void recycle(Block block) {
      if (block.bytes().length == BUFFER_BYTES) {
        free.offer(block.bytes());
      }
    }

    private byte[] buffer() {
      byte[] buffer = free.poll();
      return buffer != null ? buffer : new byte[BUFFER_BYTES];
    }

    private void put(Block block) throws InterruptedException {
      while (!closed) {
        if (queue.offer(block, 100, TimeUnit.MILLISECONDS)) {
          return;
        }
      }
      throw new InterruptedException("the import stopped reading");
    }
  }

  /**
   * Rows of {@code import_rows} in COPY's binary format, written straight into a byte array: no
   * escaping here, and no parsing of text forms (escapes, uuid, array and timestamp literals) in
   * PostgreSQL, where that was about a tenth of the time per row. Each COPY statement also needs
   * {@link #HEADER} first and {@link #TRAILER} last.
   */
  static final class CopyRows {
    /** The signature, flags and header extension length that open binary COPY data. */
    static final byte[] HEADER = {
      'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
    };

    /** The tuple count -1 that ends binary COPY data. */
    static final byte[] TRAILER = {(byte) 0xFF, (byte) 0xFF};

    private static final int FIELDS = 15;
    private static final int TEXT_OID = 25;
    private static final int JSONB_VERSION = 1;
    // PostgreSQL counts timestamps in microseconds from 2000-01-01T00:00:00Z.
    private static final long POSTGRES_EPOCH_SECONDS = 946_684_800L;

    private byte[] bytes;
    private int length;

    CopyRows(byte[] buffer) {
      bytes = buffer;
    }

    byte[] bytes() {
      return bytes;
    }

    int length() {
      return length;
    }

    /** One row in the column order of {@code STAGED_COLUMNS}. */
    void row(NormalizedLead lead, UUID leadId) {
      ensure(2);
      putShort(FIELDS);
      ensure(4 + 8 + 4 + 16);
      putInt(8);
      putLong(lead.row());
      putInt(16);
      putLong(leadId.getMostSignificantBits());
      putLong(leadId.getLeastSignificantBits());
      text(lead.phone());
      text(lead.email());
      text(lead.firstName());
      text(lead.lastName());
      text(lead.company());
      text(lead.address());
      text(lead.city());
      text(lead.state());
      text(lead.zip());
      textArray(lead.timezones());
      timestamp(lead.consentAt());
      text(lead.consentSource());
      jsonb(lead.attributes() == null ? Map.of() : lead.attributes());
    }

    private void text(String value) {
      ensure(4);
      if (value == null) {
        putInt(-1);
        return;
      }
      int lengthAt = length;
      length += 4;
      utf8(value);
      patchLength(lengthAt);
    }

    /** A one-dimensional text[] without nulls. */
    private void textArray(List<String> values) {
      ensure(4 + 20);
      int lengthAt = length;
      length += 4;
      putInt(1);
      putInt(0);
      putInt(TEXT_OID);
      putInt(values.size());
      putInt(1);
      for (String value : values) {
        text(value);
      }
      patchLength(lengthAt);
    }

    private void timestamp(java.time.Instant at) {
      ensure(12);
      if (at == null) {
        putInt(-1);
        return;
      }
      putInt(8);
      putLong(
          Math.addExact(
              Math.multiplyExact(at.getEpochSecond() - POSTGRES_EPOCH_SECONDS, 1_000_000L),
              at.getNano() / 1_000));
    }

    /** A JSON object of strings, keys in map order. */
    private void jsonb(Map<String, String> attributes) {
      ensure(5);
      int lengthAt = length;
      length += 4;
      bytes[length++] = JSONB_VERSION;
      ensure(1);
      bytes[length++] = '{';
      boolean first = true;
      for (Map.Entry<String, String> e : attributes.entrySet()) {
        ensure(1);
        if (!first) {
          bytes[length++] = ',';
        }
        first = false;
        jsonString(e.getKey());
        ensure(1);
        bytes[length++] = ':';
        jsonString(e.getValue());
      }
      ensure(1);
      bytes[length++] = '}';
      patchLength(lengthAt);
    }

    private void jsonString(String s) {
      ensure(1);
      bytes[length++] = '"';
      int plain = 0;
      for (int i = 0; i < s.length(); i++) {
        char ch = s.charAt(i);
        if (ch == '"' || ch == '\\' || ch < 0x20) {
          utf8(s, plain, i);
          ensure(6);
          bytes[length++] = '\\';
          if (ch < 0x20) {
            bytes[length++] = 'u';
            bytes[length++] = '0';
            bytes[length++] = '0';
            bytes[length++] = (byte) Character.forDigit(ch >> 4, 16);
            bytes[length++] = (byte) Character.forDigit(ch & 0xF, 16);
          } else {
            bytes[length++] = (byte) ch;
          }
          plain = i + 1;
        }
      }
      utf8(s, plain, s.length());
      ensure(1);
      bytes[length++] = '"';
    }

    private void utf8(String s) {
      utf8(s, 0, s.length());
    }

    /** UTF-8 of {@code s[from, to)}; a lone surrogate becomes '?', as the JDK's encoder does. */
    private void utf8(String s, int from, int to) {
      ensure((to - from) * 3);
      for (int i = from; i < to; i++) {
        char ch = s.charAt(i);
        if (ch < 0x80) {
          bytes[length++] = (byte) ch;
        } else if (ch < 0x800) {
          bytes[length++] = (byte) (0xC0 | (ch >> 6));
          bytes[length++] = (byte) (0x80 | (ch & 0x3F));
        } else if (Character.isHighSurrogate(ch)
            && i + 1 < to
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(ch, s.charAt(++i));
          bytes[length++] = (byte) (0xF0 | (cp >> 18));
          bytes[length++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
          bytes[length++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
          bytes[length++] = (byte) (0x80 | (cp & 0x3F));
        } else if (Character.isSurrogate(ch)) {
          bytes[length++] = '?';
        } else {
          bytes[length++] = (byte) (0xE0 | (ch >> 12));
          bytes[length++] = (byte) (0x80 | ((ch >> 6) & 0x3F));
          bytes[length++] = (byte) (0x80 | (ch & 0x3F));
        }
      }
    }

    /** Writes the bytes written since {@code lengthAt + 4} as the int32 at {@code lengthAt}. */
    private void patchLength(int lengthAt) {
      int n = length - lengthAt - 4;
      bytes[lengthAt] = (byte) (n >>> 24);
      bytes[lengthAt + 1] = (byte) (n >>> 16);
      bytes[lengthAt + 2] = (byte) (n >>> 8);
      bytes[lengthAt + 3] = (byte) n;
    }

    private void putShort(int v) {
      bytes[length++] = (byte) (v >>> 8);
      bytes[length++] = (byte) v;
    }

    private void putInt(int v) {
      bytes[length++] = (byte) (v >>> 24);
      bytes[length++] = (byte) (v >>> 16);
      bytes[length++] = (byte) (v >>> 8);
      bytes[length++] = (byte) v;
    }

    private void putLong(long v) {
      putInt((int) (v >>> 32));
      putInt((int) v);
    }

    private void ensure(int more) {
      if (length + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
      }
    }
  }
}
