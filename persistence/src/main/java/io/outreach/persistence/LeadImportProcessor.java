package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.intake.ImportJob;
import io.outreach.engine.intake.ImportOutcome;
import io.outreach.engine.intake.ImportSpec;
import io.outreach.engine.intake.LeadIntake;
import io.outreach.engine.intake.UploadStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports a stored CSV in one tenant transaction, all-or-nothing: the outcome is written in the
 * same transaction as the leads, so a re-run after a crash returns it instead of importing twice.
 *
 * <p>Two threads share the work, one per core of a small machine. A {@link LeadRowFeed} thread
 * reads, parses and normalizes the file and encodes the valid rows as binary COPY data; the calling
 * thread COPYs them into a session-local staging table ({@link LeadStaging}) and merges them into
 * {@code leads} ({@link LeadMerge}), so the next rows are normalized while the database inserts the
 * previous ones. Memory stays constant in the file size: at most {@link LeadRowFeed#QUEUE_BLOCKS}
 * blocks of rows are in flight.
 *
 * <p>Rows with a phone are merged in chunks of {@code chunkRows} as they arrive, optimistically:
 * each chunk is inserted under a savepoint as new leads, which is right as long as none of its
 * numbers is already a lead or repeated within the chunk — the unique phone index checks exactly
 * that while it inserts, at no extra cost. The first chunk that breaks it is rolled back to its
 * savepoint, and from there on every row is staged and merged at the end set-wise (see {@link
 * LeadMerge#mergePhoneRows}): earlier rows are then existing leads, which win as earlier rows of
 * the file do. Rows without a phone are always merged at the end, after every phone row, because
 * they match any lead with their email, including leads made from later rows of the same file.
 */
public final class LeadImportProcessor implements LeadIntake {
  private static final Logger log = LoggerFactory.getLogger(LeadImportProcessor.class);
  private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

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
              LeadStaging staging = LeadStaging.create(c, spec.tenantId());
              try (LeadRowFeed feed = LeadRowFeed.start(uploads, spec, progress)) {
                return new Run(c, spec, staging, chunkRows).execute(feed, started);
              }
            });
    // Finished: older finished imports' uploads past their retention go now.
    uploads.expire(spec.tenantId());
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

  /** One import on its connection: stages, inserts and merges; answers the outcome. */
  private static final class Run {
    private final Connection c;
    private final ImportSpec spec;
    private final LeadStaging staging;
    private final LeadMerge merge;
    private final int chunkRows;
    private long inserted;
    private int chunks;
    private int insertedChunks;
    // From the first chunk that is not all new leads on, rows stay staged for the set-wise merge.
    private boolean deferring;
    private String deferredBecause;
    private long insertingNanos;
    private long waitingNanos;

    Run(Connection c, ImportSpec spec, LeadStaging staging, int chunkRows) {
      this.c = c;
      this.spec = spec;
      this.staging = staging;
      this.merge = new LeadMerge(c, spec.tenantId(), spec.importId());
      this.chunkRows = chunkRows;
    }

    ImportOutcome execute(LeadRowFeed feed, long started) throws SQLException {
      try {
        for (LeadRowFeed.Block block = nextBlock(feed); block != null; block = nextBlock(feed)) {
          staging.copy(block);
          feed.recycle(block);
          if (!deferring && staging.stagedRows() >= chunkRows) {
            staging.endCopy();
            long insertStarted = System.nanoTime();
            insertChunk();
            insertingNanos += System.nanoTime() - insertStarted;
          }
        }
        staging.endCopy();
      } finally {
        staging.cancelCopy();
      }
      if (!deferring) {
        long insertStarted = System.nanoTime();
        insertChunk();
        insertingNanos += System.nanoTime() - insertStarted;
      }
      long staged = System.nanoTime();
      if (deferring) {
        log.info("import {}: {}; the rest is merged set-wise", spec.importId(), deferredBecause);
        inserted += merge.mergePhoneRows();
        staging.moveEmailOnlyRows();
      }
      if (staging.hasEmailOnlyRows()) {
        inserted += merge.mergeEmailOnlyRows();
      }
      LeadRowFeed.Totals totals = feed.totals();
      // Where the time went: waiting for the reader means the database kept up with it.
      log.info(
          "import {}: {} rows; staged in {} ms ({} chunks inserted in {} ms, {} ms waiting for"
              + " rows); merged the rest in {} ms",
          spec.importId(),
          totals.rows(),
          (staged - started) / 1_000_000,
          insertedChunks,
          insertingNanos / 1_000_000,
          waitingNanos / 1_000_000,
          (System.nanoTime() - staged) / 1_000_000);
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

    private LeadRowFeed.Block nextBlock(LeadRowFeed feed) {
      long asked = System.nanoTime();
      LeadRowFeed.Block block = feed.next();
      waitingNanos += System.nanoTime() - asked;
      return block;
    }

    /**
     * Inserts the staged chunk's phone rows as new leads under a savepoint, and empties the staging
     * table. If a number is already a lead or repeats in the chunk, the unique index refuses the
     * insert: the chunk is rolled back and stays staged, and so does every later row.
     */
    private void insertChunk() throws SQLException {
      if (staging.stagedPhoneRows() > 0) {
        if (chunks == MAX_CHUNKS) {
          deferring = true;
          deferredBecause = "more than " + MAX_CHUNKS + " chunks";
          return;
        }
        chunks++;
        Savepoint savepoint = c.setSavepoint();
        try {
          inserted += merge.insertPhoneRows();
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
      staging.nextChunk();
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
