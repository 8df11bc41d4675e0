package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL that makes an import's staged rows leads, in the import's transaction: a chunk of phone
 * rows inserted as new leads as it is ({@link #insertPhoneRows}), or the staged rows merged
 * set-wise with each other and with the tenant's leads ({@link #mergePhoneRows}, {@link
 * #mergeEmailOnlyRows}). Leads made here carry the import's id.
 */
final class LeadMerge {
  private static final String LEAD_COLUMNS =
      "tenant_id, lead_id, "
          + LeadStaging.FIELDS
          + ", timezones, consent_at, consent_source, attributes, import_id, created_at,"
          + " updated_at";
  private static final String LEAD_VALUES =
      "?, lead_id, "
          + LeadStaging.FIELDS
          + ", timezones, consent_at, consent_source, attributes, ?, now(), now()";

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

  private final Connection c;
  private final String tenantId;
  private final String importId;

  LeadMerge(Connection c, String tenantId, String importId) {
    this.c = c;
    this.tenantId = tenantId;
    this.importId = importId;
  }

  /**
   * Inserts the phone rows staged in {@link LeadStaging#ROWS} as new leads; answers how many. A
   * number that is already a lead or repeats among them fails the statement with a unique
   * violation, and nothing else checks: that is the caller's sign to merge set-wise instead.
   */
  long insertPhoneRows() throws SQLException {
    return insertLeads(
        "insert into leads ("
            + LEAD_COLUMNS
            + ") select "
            + LEAD_VALUES
            + " from "
            + LeadStaging.ROWS
            + " where phone is not null");
  }

  /** Merges the phone rows staged in {@link LeadStaging#ROWS} by phone; answers the new leads. */
  long mergePhoneRows() throws SQLException {
    return mergeStaged(LeadStaging.ROWS, "phone");
  }

  /**
   * Merges the rows of {@link LeadStaging#EMAIL_ONLY} by email, after every phone row: a phone-less
   * row matches any lead with its email, including leads made from later rows of the same file;
   * answers the new leads.
   */
  long mergeEmailOnlyRows() throws SQLException {
    return mergeStaged(LeadStaging.EMAIL_ONLY, "email");
  }

  /**
   * Merges the rows staged in {@code table} into {@code leads}, two rows or a row and a lead being
   * the same when they have the same {@code key} (phone, or for phone-less rows email); answers how
   * many new leads it made. The first row of a key wins and later rows only fill its empty fields
   * (attributes key by key); a key that is already a lead (all leads with it, for an email) gets
   * its empty fields filled the same way.
   *
   * <p>Every plan here is linear in the staged rows and the leads they touch, whatever the planner
   * believes: right after a big import, {@code leads} has no statistics yet and the planner takes a
   * tenant's leads for a handful of rows, and a nested loop over them would be quadratic (a
   * million-row file of repeated numbers ran for 15 minutes before it was stopped). So nested loops
   * are off, joins are hash joins, and {@code leads} is only ever read by the keys at hand ({@code
   * key = any(array)}: index probes for phones, one filtered scan for emails).
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
      ps.setString(1, tenantId);
      ps.setString(2, importId);
      return ps.executeUpdate();
    }
  }

  /** A statement of {@link #mergeStaged} for the rows in {@code table} keyed by {@code key}. */
  private static String merge(String table, String key, String template) {
    List<String> fields = List.of(LeadStaging.FIELDS.split(", "));
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
}
