package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.outreach.engine.intake.UploadQuotaExceeded;
import io.outreach.engine.intake.UploadStore;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
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

  /**
   * A tenant's uploads stay within its quota: the chunk that would pass it fails the upload and
   * nothing of that upload is kept; two uploads racing for the last bytes never pass it together;
   * another tenant's quota is its own.
   */
  @Test
  void aTenantsUploadsStayWithinItsQuota() throws Exception {
    int chunk = PostgresUploadStore.CHUNK_BYTES;
    PostgresUploadStore store =
        new PostgresUploadStore(DB.database().tenantJdbc(), Duration.ofDays(7), 3L * chunk);
    try (UploadStore.Pending first = store.begin("up-q")) {
      first.output().write(new byte[2 * chunk]);
      first.commit("imp_quota0001");
    }
    UploadStore.Pending a = store.begin("up-q");
    UploadStore.Pending b = store.begin("up-q");
    a.output().write(new byte[chunk / 2 + 1]);
    b.output().write(new byte[chunk / 2]);
    a.output().flush();
    assertThatThrownBy(() -> b.output().flush())
        .isInstanceOf(UploadQuotaExceeded.class)
        .hasMessageContaining(Long.toString(3L * chunk));
    b.close();
    a.commit("imp_quota0002");
    a.close();
    assertThat(storedBytes("up-q")).isEqualTo(2L * chunk + chunk / 2 + 1);
    try (UploadStore.Pending other = store.begin("up-r")) {
      other.output().write(new byte[3 * chunk]);
      other.commit("imp_quota0004");
    }
    assertThat(storedBytes("up-r")).isEqualTo(3L * chunk);
  }

  private static long storedBytes(String tenant) {
    return DB.database()
        .tenantJdbc()
        .<Long>inTenant(
            tenant,
            c -> {
              try (var rs =
                  c.createStatement()
                      .executeQuery(
                          "select coalesce(sum(octet_length(bytes)), 0) from upload_chunks")) {
                rs.next();
                return rs.getLong(1);
              }
            });
  }

  /**
   * A finished import's upload is deleted once its retention passed (as the tenant's imports finish
   * and as it uploads again); a running import's, a recent one's and another tenant's stay. An
   * erasure deletes the finished ones at once (retention zero).
   */
  @Test
  void finishedImportsUploadsGoAfterTheirRetention() throws Exception {
    for (String id : List.of("imp_old0done1", "imp_old0fail1", "imp_old0runs1", "imp_new0done1")) {
      try (UploadStore.Pending pending = store().begin("up-e")) {
        pending.output().write("first_name,phone\n".getBytes());
        pending.commit(id);
      }
    }
    try (UploadStore.Pending pending = store().begin("up-f")) {
      pending.output().write("first_name,phone\n".getBytes());
      pending.commit("imp_old0done1");
    }
    imported("up-e", "imp_old0done1", "completed", 8);
    imported("up-e", "imp_old0fail1", "failed", 8);
    imported("up-e", "imp_old0runs1", "running", 8);
    imported("up-e", "imp_new0done1", "completed", 0);
    imported("up-f", "imp_old0done1", "completed", 8);

    assertThat(
            new PostgresUploadStore(
                    DB.database().tenantJdbc(), Duration.ofDays(7), PostgresUploadStore.QUOTA_BYTES)
                .expire("up-e"))
        .isEqualTo(2);
    assertThatThrownBy(() -> store().open("up-e", "imp_old0done1"))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> store().open("up-e", "imp_old0fail1"))
        .isInstanceOf(NoSuchFileException.class);
    store().open("up-e", "imp_old0runs1").close();
    store().open("up-e", "imp_new0done1").close();
    store().open("up-f", "imp_old0done1").close();

    assertThat(
            new PostgresUploadStore(
                    DB.database().tenantJdbc(), Duration.ZERO, PostgresUploadStore.QUOTA_BYTES)
                .expire("up-e"))
        .as("an erasure: every finished import's upload")
        .isEqualTo(1);
    store().open("up-e", "imp_old0runs1").close();
  }

  private static void imported(String tenant, String importId, String status, int daysAgo) {
    DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              try (var ps =
                  c.prepareStatement(
                      "insert into imports (tenant_id, import_id, sha256, status, created_at)"
                          + " values (?, ?, ?, ?, now() - ?::interval)")) {
                ps.setString(1, tenant);
                ps.setString(2, importId);
                ps.setString(3, importId);
                ps.setString(4, status);
                ps.setString(5, daysAgo + " days");
                ps.executeUpdate();
              }
              return null;
            });
  }
}
