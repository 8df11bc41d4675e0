package io.outreach.engine.intake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Tenant-namespaced storage of raw uploads, by tenant and import id, where every node of the
 * cluster reaches them: PostgreSQL today (chunked); an S3-compatible store can implement the same
 * port.
 */
public interface UploadStore {

  /** An upload being received: write it, then {@link #commit} it under an import id or abort. */
  interface Pending extends AutoCloseable {
    OutputStream output();

    /** Makes the received bytes the upload of {@code importId}. */
    void commit(String importId) throws IOException;

    /** Discards the received bytes (idempotent; also what close does if not committed). */
    @Override
    void close();
  }

  Pending begin(String tenantId) throws IOException;

  InputStream open(String tenantId, String importId) throws IOException;

  /**
   * Deletes the tenant's uploads of finished imports (completed or failed) older than the store's
   * retention; answers how many. Called as the tenant's imports finish and as it uploads again.
   */
  int expire(String tenantId);
}
