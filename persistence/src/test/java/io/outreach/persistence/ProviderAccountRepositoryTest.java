package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Provider accounts at rest: sealed with AES-256-GCM (no secret in the table's plain text, not even
 * to the schema owner), bound to their tenant and provider, visible to their tenant only, audited
 * without their secrets, and re-sealed under a new key by a rotation.
 */
class ProviderAccountRepositoryTest {
  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static final String TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
  private static final byte[] KEY = key();
  private static final byte[] NEW_KEY = key();

  private static byte[] key() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return k;
  }

  private static ProviderAccountRepository accounts(SecretBox box) {
    return new ProviderAccountRepository(
        DB.database().tenantJdbc(), DB.database().dataSource(), box, Clock.systemUTC());
  }

  private static Map<String, String> twilio() {
    return Map.of("accountSid", "AC" + "1".repeat(32), "authToken", TOKEN);
  }

  /** A connection as the schema owner, bound to {@code tenant} (row-level security is forced). */
  private static Connection owner(String tenant) throws Exception {
    Connection c = DB.ownerConnection();
    try (PreparedStatement ps =
        c.prepareStatement("select set_config('app.tenant_id', ?, false)")) {
      ps.setString(1, tenant);
      ps.execute();
    }
    return c;
  }

  /** The tenant's rows of the table as the schema owner sees them, as text (what a dump holds). */
  private static String tableAsText(String tenant) throws Exception {
    try (Connection c = owner(tenant);
        PreparedStatement ps =
            c.prepareStatement(
                "select string_agg(t::text || encode(sealed, 'escape'), '\n') from"
                    + " provider_accounts t")) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return String.valueOf(rs.getString(1));
      }
    }
  }

  @Test
  void anAccountIsSealedAtRestAndOpensForItsTenantOnly() throws Exception {
    ProviderAccountRepository repo = accounts(new SecretBox(KEY, List.of()));
    repo.put("acme", "twilio", twilio(), "admin@acme");

    assertThat(repo.get("acme", "twilio").orElseThrow().fields()).isEqualTo(twilio());
    assertThat(repo.list("globex")).as("another tenant sees nothing").isEmpty();
    assertThat(tableAsText("acme")).contains("acme").doesNotContain(TOKEN).doesNotContain("AC1111");

    // Audited without the secret.
    try (Connection c = owner("acme");
        PreparedStatement ps =
            c.prepareStatement(
                "select action, subject, detail::text from audit_log where tenant_id = 'acme'")) {
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("provider-account.set");
        assertThat(rs.getString(2)).isEqualTo("twilio");
        assertThat(rs.getString(3)).doesNotContain(TOKEN);
      }
    }
    assertThat(repo.remove("acme", "twilio", "admin@acme")).isTrue();
    assertThat(repo.remove("acme", "twilio", "admin@acme")).isFalse();
    assertThat(repo.list("acme")).isEmpty();
  }

  @Test
  void aSealedAccountMovedToAnotherTenantDoesNotOpen() throws Exception {
    ProviderAccountRepository repo = accounts(new SecretBox(KEY, List.of()));
    repo.put("initech", "twilio", twilio(), "admin");
    repo.put(
        "umbrella", "twilio", Map.of("accountSid", "AC" + "2".repeat(32), "authToken", "x"), "a");
    byte[] initech;
    try (Connection c = owner("initech");
        ResultSet rs = c.createStatement().executeQuery("select sealed from provider_accounts")) {
      rs.next();
      initech = rs.getBytes(1);
    }
    try (Connection c = owner("umbrella");
        PreparedStatement ps = c.prepareStatement("update provider_accounts set sealed = ?")) {
      ps.setBytes(1, initech);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThatThrownBy(() -> repo.list("umbrella")).hasMessageContaining("does not open");
  }

  @Test
  void aRotationResealsEveryAccountUnderTheNewKey() throws Exception {
    accounts(new SecretBox(KEY, List.of()))
        .put(
            "hooli",
            "signalhouse",
            Map.of("apiKey", "k1", "webhookSecret", "s1-s1-s1-s1-s1-s1"),
            "a");
    // The rotation finds tenants through the journal.
    try (Connection c = DB.ownerConnection()) {
      c.createStatement()
          .executeUpdate(
              "insert into event_journal (persistence_id, sequence_number, deleted, writer,"
                  + " write_timestamp, adapter_manifest, event_ser_id, event_ser_manifest,"
                  + " event_payload) values ('Tenant|hooli', 1, false, 'test', 0, '', 0, '',"
                  + " ''::bytea)");
    }
    SecretBox rotated = new SecretBox(NEW_KEY, List.of(KEY));
    ProviderAccountRepository repo = accounts(rotated);
    assertThat(repo.get("hooli", "signalhouse").orElseThrow().fields())
        .containsEntry("apiKey", "k1");
    assertThat(repo.resealAll()).isEqualTo(1);
    assertThat(repo.resealAll()).as("nothing left under the old key").isZero();
    // The old key alone no longer opens it; the new one alone does.
    assertThatThrownBy(() -> accounts(new SecretBox(KEY, List.of())).list("hooli"))
        .hasMessageContaining("neither the current nor a previous key");
    assertThat(accounts(new SecretBox(NEW_KEY, List.of())).list("hooli")).hasSize(1);
  }

  @Test
  void aSecretBoxRefusesAlteredValuesAndOtherContexts() {
    SecretBox box = new SecretBox(KEY, List.of());
    byte[] sealed = box.seal("secret".getBytes(StandardCharsets.UTF_8), "acme/twilio");
    assertThat(new String(box.open(sealed, "acme/twilio"), StandardCharsets.UTF_8))
        .isEqualTo("secret");
    assertThat(box.current(sealed)).isTrue();
    assertThatThrownBy(() -> box.open(sealed, "acme/signalhouse"))
        .hasMessageContaining("does not open");
    sealed[sealed.length - 1] ^= 1;
    assertThatThrownBy(() -> box.open(sealed, "acme/twilio")).hasMessageContaining("does not open");
    assertThat(box.seal(new byte[] {1}, "c"))
        .as("a fresh nonce each time")
        .isNotEqualTo(box.seal(new byte[] {1}, "c"));
  }
}
