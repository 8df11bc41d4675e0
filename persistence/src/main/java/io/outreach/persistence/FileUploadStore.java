package io.outreach.persistence;

import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.tenant.TenantId;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Raw uploads on the local file system: {@code <root>/<tenant>/<import>.csv}. Bytes are received
 * into a temporary file beside it and moved into place atomically on commit, so a half-received
 * upload never looks like a stored one. Ids are checked so no name can leave its tenant folder.
 */
public final class FileUploadStore implements UploadStore {
  private static final Pattern IMPORT_ID = Pattern.compile("imp_[a-z0-9]{8,40}");

  private final Path root;

  public FileUploadStore(Path root) {
    this.root = root;
  }

  @Override
  public Pending begin(String tenantId) throws IOException {
    Path dir = tenantDir(tenantId);
    Files.createDirectories(dir);
    Path tmp = dir.resolve(".receiving-" + UUID.randomUUID() + ".part");
    OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
    return new Pending() {
      private boolean committed;

      @Override
      public OutputStream output() {
        return out;
      }

      @Override
      public void commit(String importId) throws IOException {
        out.close();
        Files.move(tmp, file(tenantId, importId), StandardCopyOption.ATOMIC_MOVE);
        committed = true;
      }

      @Override
      public void close() {
        if (committed) {
          return;
        }
        try {
          out.close();
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot discard upload " + tmp, e);
        }
      }
    };
  }

  @Override
  public InputStream open(String tenantId, String importId) throws IOException {
    return Files.newInputStream(file(tenantId, importId));
  }

  private Path tenantDir(String tenantId) {
    if (!TenantId.isValid(tenantId)) {
      throw new IllegalArgumentException("not a tenant id");
    }
    return root.resolve(tenantId);
  }

  private Path file(String tenantId, String importId) {
    if (!IMPORT_ID.matcher(importId).matches()) {
      throw new IllegalArgumentException("not an import id");
    }
    return tenantDir(tenantId).resolve(importId + ".csv");
  }
}
