package io.outreach.persistence;

import io.outreach.engine.intake.UploadQuotaExceeded;
import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.tenant.TenantId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Raw uploads in PostgreSQL ({@code uploads}, {@code upload_chunks}), which every node of the
 * cluster reaches: an import accepted by one node is read by whichever node runs it, also after the
 * first one is lost. Bytes are received in chunks of {@link #CHUNK_BYTES}, each written in a short
 * transaction of its own, so a slow upload holds no connection while its client sends; the upload
 * becomes its import's in one statement on commit, so a half-received upload never looks like a
 * stored one. Reading fetches one chunk at a time, again each with a connection only while it is
 * read. Every statement runs bound to the tenant (row-level security).
 *
 * <p>A tenant's stored bytes (its committed uploads and those being received) stay within its
 * quota: each chunk is written under the tenant's upload lock after summing what the tenant stores,
 * so uploads racing for the last bytes never together pass it; the chunk that would pass it fails
 * the upload with {@link UploadQuotaExceeded}, and the upload is discarded.
 */
public final class PostgresUploadStore implements UploadStore {
  /** Bytes of one chunk (and the most a receiving upload holds in memory). */
  static final int CHUNK_BYTES = 1 << 20;

  private static final Pattern IMPORT_ID = Pattern.compile("imp_[a-z0-9]{8,40}");

  /** How long a finished import's upload is kept by default ({@code intake.upload-retention}). */
  public static final Duration RETENTION = Duration.ofDays(7);

  /** The bytes a tenant may store by default ({@code intake.upload-quota}). */
  public static final long QUOTA_BYTES = 5L << 30;

  private final TenantJdbc tenantJdbc;
  private final Duration retention;
  private final long quotaBytes;

  public PostgresUploadStore(TenantJdbc tenantJdbc) {
    this(tenantJdbc, RETENTION, QUOTA_BYTES);
  }

  /**
   * A store that keeps a finished import's upload for {@code retention} and at most {@code
   * quotaBytes} of a tenant's uploads.
   */
  public PostgresUploadStore(TenantJdbc tenantJdbc, Duration retention, long quotaBytes) {
    this.tenantJdbc = tenantJdbc;
    this.retention = retention;
    this.quotaBytes = quotaBytes;
  }

  @Override
  public int expire(String tenantId) {
    requireTenant(tenantId);
    return tenantJdbc.inTenant(tenantId, c -> deleteFinished(c, tenantId, retention));
  }

  /**
   * Deletes the tenant's uploads of imports that finished (completed or failed) and were created
   * more than {@code age} ago (an import runs for minutes; its creation dates it well enough). A
   * running import keeps its upload. Answers how many were deleted.
   */
  static int deleteFinished(Connection c, String tenantId, Duration age) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "delete from uploads u using imports i where u.tenant_id = ? and i.tenant_id ="
                + " u.tenant_id and i.import_id = u.import_id and i.status <> 'running' and"
                + " i.created_at <= now() - ?::interval")) {
      ps.setString(1, tenantId);
      ps.setString(2, age.toMillis() + " milliseconds");
      return ps.executeUpdate();
    }
  }

  @Override
  public Pending begin(String tenantId) throws IOException {
    requireTenant(tenantId);
    UUID uploadId = UUID.randomUUID();
    tenantJdbc.inTenant(
        tenantId,
        c -> {
          deleteFinished(c, tenantId, retention);
          // Uploads a node died receiving are the tenant's to clear, a day on.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "delete from uploads where import_id is null"
                      + " and received_at < now() - interval '1 day'")) {
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement("insert into uploads (tenant_id, upload_id) values (?, ?)")) {
            ps.setString(1, tenantId);
            ps.setObject(2, uploadId);
            ps.executeUpdate();
          }
          return null;
        });
    return new Receiving(tenantId, uploadId);
  }

  @Override
  public InputStream open(String tenantId, String importId) throws IOException {
    requireTenant(tenantId);
    if (!IMPORT_ID.matcher(importId).matches()) {
      throw new IllegalArgumentException("not an import id");
    }
    Optional<UUID> uploadId =
        tenantJdbc.inTenant(
            tenantId,
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("select upload_id from uploads where import_id = ?")) {
                ps.setString(1, importId);
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next()
                      ? Optional.of(rs.getObject(1, UUID.class))
                      : Optional.<UUID>empty();
                }
              }
            });
    if (uploadId.isEmpty()) {
      throw new java.nio.file.NoSuchFileException(
          "no stored upload for import " + importId + " of " + tenantId);
    }
    return new Chunks(tenantId, uploadId.get());
  }

  /**
   * The bytes the tenant stores now, its committed uploads and those being received, read under the
   * tenant's upload lock (held until the transaction ends).
   */
  private static long stored(Connection c, String tenantId) throws SQLException {
    try (PreparedStatement lock =
        c.prepareStatement("select pg_advisory_xact_lock(hashtextextended(?, 0))")) {
      lock.setString(1, "uploads:" + tenantId);
      lock.executeQuery().close();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "select coalesce(sum(octet_length(bytes)), 0) from upload_chunks where tenant_id = ?")) {
      ps.setString(1, tenantId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void requireTenant(String tenantId) {
    if (!TenantId.isValid(tenantId)) {
      throw new IllegalArgumentException("not a tenant id");
    }
  }

  /** An upload being received: a chunk's worth in memory, the rest already stored. */
  private final class Receiving implements Pending {
    private final String tenantId;
    private final UUID uploadId;
    private final byte[] buffer = new byte[CHUNK_BYTES];
    private int filled;
    private int seq;
    private boolean committed;
    private boolean discarded;

    Receiving(String tenantId, UUID uploadId) {
      this.tenantId = tenantId;
      this.uploadId = uploadId;
    }

    // Closing the stream stores what it holds; only the pending upload's close discards it.
    private final OutputStream output =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            Receiving.this.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            Receiving.this.write(b, off, len);
          }

          @Override
          public void flush() throws IOException {
            Receiving.this.flush();
          }

          @Override
          public void close() throws IOException {
            Receiving.this.flush();
          }
        };

    @Override
    public OutputStream output() {
      return output;
    }

    void write(int b) throws IOException {
      if (filled == buffer.length) {
        store();
      }
      buffer[filled++] = (byte) b;
    }

    void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        if (filled == buffer.length) {
          store();
        }
        int n = Math.min(len, buffer.length - filled);
        System.arraycopy(b, off, buffer, filled, n);
        filled += n;
        off += n;
        len -= n;
      }
    }

    /** Stores what is buffered as a chunk (a flush may store a short one). */
    void flush() throws IOException {
      if (filled > 0) {
        store();
      }
    }

    private void store() throws IOException {
      if (discarded || (committed && filled > 0)) {
        throw new IOException("upload already " + (committed ? "committed" : "discarded"));
      }
      byte[] chunk = Arrays.copyOf(buffer, filled);
      int n = seq++;
      filled = 0;
      tenantJdbc.inTenant(
          tenantId,
          c -> {
            if (stored(c, tenantId) + chunk.length > quotaBytes) {
              throw new UploadQuotaExceeded(quotaBytes);
            }
            try (PreparedStatement ps =
                c.prepareStatement(
                    "insert into upload_chunks (tenant_id, upload_id, seq, bytes)"
                        + " values (?, ?, ?, ?)")) {
              ps.setString(1, tenantId);
              ps.setObject(2, uploadId);
              ps.setInt(3, n);
              ps.setBytes(4, chunk);
              ps.executeUpdate();
            }
            return null;
          });
    }

    @Override
    public void commit(String importId) throws IOException {
      if (!IMPORT_ID.matcher(importId).matches()) {
        throw new IllegalArgumentException("not an import id");
      }
      flush();
      tenantJdbc.inTenant(
          tenantId,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement("update uploads set import_id = ? where upload_id = ?")) {
              ps.setString(1, importId);
              ps.setObject(2, uploadId);
              if (ps.executeUpdate() != 1) {
                throw new java.sql.SQLException("upload " + uploadId + " is gone");
              }
            }
            return null;
          });
      committed = true;
    }

    @Override
    public void close() {
      if (committed || discarded) {
        return;
      }
      discarded = true;
      tenantJdbc.inTenant(
          tenantId,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement("delete from uploads where upload_id = ?")) {
              ps.setObject(1, uploadId);
              ps.executeUpdate();
            }
            return null;
          });
    }
  }

  /** A stored upload read back a chunk at a time. */
  private final class Chunks extends InputStream {
    private final String tenantId;
    private final UUID uploadId;
    private byte[] chunk = new byte[0];
    private int pos;
    private int nextSeq;
    private boolean done;

    Chunks(String tenantId, UUID uploadId) {
      this.tenantId = tenantId;
      this.uploadId = uploadId;
    }

    @Override
    public int read() throws IOException {
      if (!fill()) {
        return -1;
      }
      return chunk[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!fill()) {
        return -1;
      }
      int n = Math.min(len, chunk.length - pos);
      System.arraycopy(chunk, pos, b, off, n);
      pos += n;
      return n;
    }

    /** Whether bytes are at hand, fetching the next chunk when this one is used up. */
    private boolean fill() {
      while (!done && pos == chunk.length) {
        int seq = nextSeq++;
        Optional<byte[]> next =
            tenantJdbc.inTenant(
                tenantId,
                c -> {
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "select bytes from upload_chunks where upload_id = ? and seq = ?")) {
                    ps.setObject(1, uploadId);
                    ps.setInt(2, seq);
                    try (ResultSet rs = ps.executeQuery()) {
                      return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.<byte[]>empty();
                    }
                  }
                });
        if (next.isEmpty()) {
          done = true;
        } else {
          chunk = next.get();
          pos = 0;
        }
      }
      return pos < chunk.length;
    }
  }
}
