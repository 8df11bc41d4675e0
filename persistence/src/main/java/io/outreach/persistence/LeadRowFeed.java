package io.outreach.persistence;

import io.outreach.engine.intake.ImportOutcome;
import io.outreach.engine.intake.ImportSpec;
import io.outreach.engine.intake.LeadIntake.PermanentFailure;
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
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * The rows of an upload, read, parsed, normalized and encoded for COPY on a thread of its own,
 * handed over in blocks through a bounded queue (which bounds the memory an import holds). A
 * failure of the file (malformed CSV, an unusable header) reaches the consumer at the point in the
 * stream where it happened, as the exception the single-threaded reader would have thrown.
 */
final class LeadRowFeed implements AutoCloseable {
  /** Rows between two progress reports. */
  private static final int PROGRESS_EVERY = 10_000;

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

  private LeadRowFeed(UploadStore uploads, ImportSpec spec, LongConsumer progress) {
    this.uploads = uploads;
    this.spec = spec;
    this.progress = progress;
    this.thread = new Thread(this::produce, "lead-import-" + spec.importId());
    thread.setDaemon(true);
  }

  /** Starts reading the upload of {@code spec} on a thread of its own. */
  static LeadRowFeed start(UploadStore uploads, ImportSpec spec, LongConsumer progress) {
    LeadRowFeed feed = new LeadRowFeed(uploads, spec, progress);
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
    LeadNormalizer normalizer = new LeadNormalizer(spec.region(), ZoneId.of(spec.tenantTimezone()));
    LeadCopyRows out = new LeadCopyRows(buffer());
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
            out = new LeadCopyRows(buffer());
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
