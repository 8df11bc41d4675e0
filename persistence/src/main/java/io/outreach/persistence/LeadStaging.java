package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * An import's staging tables and the binary COPY that fills them. COPY is not allowed into tables
 * under row-level security, so rows go into temporary tables first (visible to the import's session
 * only, dropped at commit), typed like {@code leads} so that merging copies values instead of
 * converting them: {@link #ROWS} holds the rows of the chunk being staged (or, once the import
 * merges set-wise, every row from there on), {@link #EMAIL_ONLY} the rows without a phone, which
 * are always merged at the end.
 *
 * <p>The COPY stays open across blocks and is ended only when its rows are needed, so a chunk of
 * rows costs one COPY statement.
 */
final class LeadStaging {
  /** Staged rows, phone-less ones included until they are moved to {@link #EMAIL_ONLY}. */
  static final String ROWS = "import_rows";

  /** Phone-less rows, kept for the end. */
  static final String EMAIL_ONLY = "import_emails";

  /** A lead's fields, as {@code leads} and the staging tables name them. */
  static final String FIELDS =
      "phone, email, first_name, last_name, company, address, city, state, zip";

  /** The staged columns, in the order {@link LeadCopyRows} writes them. */
  static final String COLUMNS =
      "row_no, lead_id, " + FIELDS + ", timezones, consent_at, consent_source, attributes";

  private final Connection c;
  private final CopyManager copies;
  private CopyIn copy;
  private long phoneRows;
  private long emailOnlyRows;
  private long movedEmailOnlyRows;

  private LeadStaging(Connection c) throws SQLException {
    this.c = c;
    this.copies = c.unwrap(PGConnection.class).getCopyAPI();
  }

  /**
   * Takes the tenant's import lock and creates the staging tables in {@code c}'s transaction.
   * Imports of one tenant take turns: each sees the leads the previous one committed, so two files
   * with the same number never race to create the same lead.
   */
  static LeadStaging create(Connection c, String tenantId) throws SQLException {
    try (PreparedStatement lock =
        c.prepareStatement("select pg_advisory_xact_lock(hashtext('lead-import:' || ?))")) {
      lock.setString(1, tenantId);
      lock.execute();
    }
    try (Statement st = c.createStatement()) {
      st.execute(
          "create temporary table import_rows (row_no bigint not null, lead_id uuid not null,"
              + " phone text collate \"C\", email text collate \"C\", first_name text,"
              + " last_name text, company text, address text, city text, state text, zip text,"
              + " timezones text[] not null, consent_at timestamptz, consent_source text,"
              + " attributes jsonb not null) on commit drop");
      st.execute("create temporary table import_emails (like import_rows) on commit drop");
    }
    return new LeadStaging(c);
  }

  /** Appends a block's rows to {@link #ROWS}, opening a COPY if none is open. */
  void copy(LeadRowFeed.Block block) throws SQLException {
    if (copy == null) {
      copy = copies.copyIn("copy import_rows (" + COLUMNS + ") from stdin with (format binary)");
      copy.writeToCopy(LeadCopyRows.HEADER, 0, LeadCopyRows.HEADER.length);
    }
    copy.writeToCopy(block.bytes(), 0, block.length());
    phoneRows += block.phoneRows();
    emailOnlyRows += block.emailOnlyRows();
  }

  /** Ends the open COPY, if any, so that its rows can be read. */
  void endCopy() throws SQLException {
    if (copy != null) {
      copy.writeToCopy(LeadCopyRows.TRAILER, 0, LeadCopyRows.TRAILER.length);
      copy.endCopy();
      copy = null;
    }
  }

  /** Abandons a COPY that a failure left open, so the connection can roll back. */
  void cancelCopy() throws SQLException {
    if (copy != null && copy.isActive()) {
      copy.cancelCopy();
    }
  }

  /** Rows staged in {@link #ROWS} since it was last emptied. */
  long stagedRows() {
    return phoneRows + emailOnlyRows;
  }

  /** Rows with a phone staged in {@link #ROWS} since it was last emptied. */
  long stagedPhoneRows() {
    return phoneRows;
  }

  /** Whether {@link #EMAIL_ONLY} has rows to merge. */
  boolean hasEmailOnlyRows() {
    return movedEmailOnlyRows > 0;
  }

  /** Moves the phone-less rows of {@link #ROWS} to {@link #EMAIL_ONLY}. */
  void moveEmailOnlyRows() throws SQLException {
    if (emailOnlyRows > 0) {
      try (Statement st = c.createStatement()) {
        st.execute("insert into import_emails select * from import_rows where phone is null");
      }
      movedEmailOnlyRows += emailOnlyRows;
      emailOnlyRows = 0;
    }
  }

  /**
   * Keeps the chunk's phone-less rows for the end and empties {@link #ROWS} for the next chunk,
   * once the chunk's phone rows are leads.
   */
  void nextChunk() throws SQLException {
    moveEmailOnlyRows();
    try (Statement st = c.createStatement()) {
      st.execute("truncate import_rows");
    }
    phoneRows = 0;
  }
}
