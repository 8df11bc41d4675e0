package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.outreach.engine.intake.UploadStore;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Uploads in PostgreSQL: chunked, committed as a whole or not at all, each tenant's own. */
class PostgresUploadStoreTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static PostgresUploadStore store() {
    return new PostgresUploadStore(DB.database().tenantJdbc());
  }

  @Test
  void anUploadOfSeveralChunksReadsBackByteForByte() throws Exception {
    byte[] bytes = new byte[PostgresUploadStore.CHUNK_BYTES * 2 + 12_345];
    new Random(18).nextBytes(bytes);
    try (UploadStore.Pending pending = store().begin("up-a")) {
      pending.output().write(bytes, 0, 1000);
      pending.output().flush(); // a short chunk in the middle
      for (int i = 1000; i < bytes.length; i += 7919) {
        pending.output().write(bytes, i, Math.min(7919, bytes.length - i));
      }
      pending.commit("imp_chunked01");
    }
    try (InputStream in = store().open("up-a", "imp_chunked01")) {
      assertThat(in.readAllBytes()).isEqualTo(bytes);
    }
  }

  @Test
  void anUploadNotCommittedLeavesNothingAndAnotherTenantSeesNone() throws Exception {
    try (UploadStore.Pending pending = store().begin("up-b")) {
      pending.output().write(new byte[PostgresUploadStore.CHUNK_BYTES + 1]);
    }
    assertThatThrownBy(() -> store().open("up-b", "imp_neverdone1"))
        .isInstanceOf(NoSuchFileException.class);
    try (UploadStore.Pending pending = store().begin("up-c")) {
      pending.output().write("first_name,phone\n".getBytes());
      pending.commit("imp_tenantc01");
    }
    assertThatThrownBy(() -> store().open("up-d", "imp_tenantc01"))
        .isInstanceOf(NoSuchFileException.class);
    try (InputStream in = store().open("up-c", "imp_tenantc01")) {
      assertThat(new String(in.readAllBytes())).isEqualTo("first_name,phone\n");
    }
    long left =
        DB.database()
            .tenantJdbc()
            .<Long>inTenant(
                "up-b",
                c -> {
                  try (var rs =
                      c.createStatement()
                          .executeQuery(
                              "select (select count(*) from uploads)"
                                  + " + (select count(*) from upload_chunks)")) {
                    rs.next();
                    return rs.getLong(1);
                  }
                });
    assertThat(left).as("rows left of the discarded upload").isZero();
  }
}
