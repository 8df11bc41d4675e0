package io.outreach.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A normalized description of one schema, read from the catalog: tables and their columns, indexes,
 * constraints, row-level-security flags, policies, table grants, views, sequences, triggers,
 * functions and enum types. Two schemas built by the same migrations have equal fingerprints
 * whatever their names, so comparing the live schema with a scratch copy shows exactly what was
 * changed by hand.
 *
 * <p>Names are made schema-independent in two ways: the catalog is read with {@code search_path}
 * set to the schema, so PostgreSQL prints visible names unqualified, and the few outputs that
 * always qualify (index and function definitions) have every compared schema's prefix removed, on
 * both sides alike.
 */
final class SchemaFingerprint {

  /** One catalog fact. {@code table} names the owning table, if any, to fold its details. */
  record Item(String kind, String name, String table, String detail) {
    String key() {
      return kind + " " + name;
    }
  }

  private final Map<String, Item> items;

  private SchemaFingerprint(Map<String, Item> items) {
    this.items = items;
  }

  /**
   * Reads the fingerprint of {@code schema}, leaving out {@code historyTable}.
   *
   * @param schemasToStrip every schema name whose qualification must vanish, the same set for both
   *     fingerprints being compared
   */
  static SchemaFingerprint read(
      Connection c, String schema, String historyTable, Collection<String> schemasToStrip)
      throws SQLException {
    Pattern qualifier = qualifierPattern(schemasToStrip);
    List<Item> found = new ArrayList<>();
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      // Transaction-local, so the pooled connection goes back with its usual search_path.
      query(c, "select set_config('search_path', quote_ident(?), true)", schema, rs -> {});
      readRelations(c, schema, found);
      readColumns(c, schema, found);
      query(
          c,
          "select tablename, indexname, indexdef from pg_indexes where schemaname = ?",
          schema,
          rs ->
              found.add(
                  new Item(
                      "index",
                      rs.getString(2) + " on " + rs.getString(1),
                      rs.getString(1),
                      strip(qualifier, rs.getString(3)))));
      query(
          c,
          """
          select t.relname, con.conname, pg_get_constraintdef(con.oid)
          from pg_constraint con
          join pg_class t on t.oid = con.conrelid
          join pg_namespace n on n.oid = t.relnamespace
          where n.nspname = ? and con.contype in ('p', 'u', 'f', 'c', 'x')
          """,
          schema,
          rs ->
              found.add(
                  new Item(
                      "constraint",
                      rs.getString(2) + " on " + rs.getString(1),
                      rs.getString(1),
                      strip(qualifier, rs.getString(3)))));
      query(
          c,
          """
          select tablename, policyname, permissive, roles::text, cmd, qual, with_check
          from pg_policies where schemaname = ?
          """,
          schema,
          rs ->
              found.add(
                  new Item(
                      "policy",
                      rs.getString(2) + " on " + rs.getString(1),
                      rs.getString(1),
                      strip(
                          qualifier,
                          rs.getString(3).toLowerCase()
                              + " for "
                              + rs.getString(5)
                              + " to "
                              + rs.getString(4)
                              + " using ("
                              + rs.getString(6)
                              + ") with check ("
                              + rs.getString(7)
                              + ")"))));
      query(
          c,
          """
          select t.relname, coalesce(r.rolname, 'PUBLIC'), acl.privilege_type
          from pg_class t
          join pg_namespace n on n.oid = t.relnamespace
          cross join lateral aclexplode(t.relacl) acl
          left join pg_roles r on r.oid = acl.grantee
          where n.nspname = ? and acl.grantee <> t.relowner
          """,
          schema,
          rs ->
              found.add(
                  new Item(
                      "grant",
                      rs.getString(3) + " on " + rs.getString(1) + " to " + rs.getString(2),
                      rs.getString(1),
                      "")));
      query(
          c,
          """
          select t.relname, tg.tgname, pg_get_triggerdef(tg.oid)
          from pg_trigger tg
          join pg_class t on t.oid = tg.tgrelid
          join pg_namespace n on n.oid = t.relnamespace
          where n.nspname = ? and not tg.tgisinternal
          """,
          schema,
          rs ->
              found.add(
                  new Item(
                      "trigger",
                      rs.getString(2) + " on " + rs.getString(1),
                      rs.getString(1),
                      strip(qualifier, rs.getString(3)))));
      query(
          c,
          """
          select p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                 pg_get_functiondef(p.oid)
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = ? and p.prokind in ('f', 'p')
          """,
          schema,
          rs ->
              found.add(
                  new Item("function", rs.getString(1), null, strip(qualifier, rs.getString(2)))));
      query(
          c,
          """
          select t.typname, string_agg(e.enumlabel, ', ' order by e.enumsortorder)
          from pg_type t
          join pg_namespace n on n.oid = t.typnamespace
          join pg_enum e on e.enumtypid = t.oid
          where n.nspname = ?
          group by t.typname
          """,
          schema,
          rs -> found.add(new Item("enum type", rs.getString(1), null, rs.getString(2))));
    } finally {
      c.rollback();
      c.setAutoCommit(autoCommit);
    }
    Map<String, Item> byKey = new TreeMap<>();
    for (Item item : found) {
      if (!historyTable.equals(item.table()) && !historyTable.equals(item.name())) {
        byKey.put(item.key(), item);
      }
    }
    return new SchemaFingerprint(byKey);
  }

  private static void readRelations(Connection c, String schema, List<Item> found)
      throws SQLException {
    query(
        c,
        """
        select c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
               case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ? and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
        """,
        schema,
        rs -> {
          String name = rs.getString(1);
          switch (rs.getString(2)) {
            case "r", "p" -> {
              found.add(new Item("table", name, name, ""));
              found.add(
                  new Item(
                      "row level security",
                      "on " + name,
                      name,
                      (rs.getBoolean(3) ? "enabled" : "disabled")
                          + (rs.getBoolean(4) ? ", forced" : ", not forced")));
            }
            case "v" -> found.add(new Item("view", name, name, rs.getString(5)));
            case "m" -> found.add(new Item("materialized view", name, name, rs.getString(5)));
            case "S" -> found.add(new Item("sequence", name, null, ""));
            default -> found.add(new Item("foreign table", name, name, ""));
          }
        });
  }

  private static void readColumns(Connection c, String schema, List<Item> found)
      throws SQLException {
    query(
        c,
        """
        select t.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
        from pg_attribute a
        join pg_class t on t.oid = a.attrelid
        join pg_namespace n on n.oid = t.relnamespace
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where n.nspname = ? and t.relkind in ('r', 'p', 'f') and a.attnum > 0
          and not a.attisdropped
        """,
        schema,
        rs -> {
          StringBuilder detail = new StringBuilder(rs.getString(3));
          if (rs.getBoolean(4)) {
            detail.append(" not null");
          }
          String identity = rs.getString(6);
          if (identity != null && !identity.isEmpty()) {
            detail.append(identity.equals("a") ? " generated always" : " generated by default");
            detail.append(" as identity");
          }
          String generated = rs.getString(7);
          String expr = rs.getString(5);
          if (expr != null) {
            boolean isGenerated = generated != null && !generated.isEmpty();
            detail.append(isGenerated ? " generated always as (" : " default ");
            detail.append(expr).append(isGenerated ? ") stored" : "");
          }
          found.add(
              new Item(
                  "column",
                  rs.getString(1) + "." + rs.getString(2),
                  rs.getString(1),
                  detail.toString()));
        });
  }

  /**
   * Describes every way {@code live} differs from {@code expected}, one sentence each. Details of a
   * table that exists on one side only are folded into that table's sentence.
   */
  static List<String> differences(SchemaFingerprint live, SchemaFingerprint expected) {
    Set<String> extraTables = tablesOnlyIn(live, expected);
    Set<String> missingTables = tablesOnlyIn(expected, live);
    Set<String> keys = new TreeSet<>(live.items.keySet());
    keys.addAll(expected.items.keySet());
    List<String> out = new ArrayList<>();
    for (String key : keys) {
      Item inDb = live.items.get(key);
      Item inMigrations = expected.items.get(key);
      if (inMigrations == null) {
        if (isFolded(inDb, extraTables)) {
          continue;
        }
        out.add(key + describe(inDb) + " exists in the database but not in migrations");
      } else if (inDb == null) {
        if (isFolded(inMigrations, missingTables)) {
          continue;
        }
        out.add(key + " missing");
      } else if (!inDb.detail().equals(inMigrations.detail())) {
        out.add(
            key
                + " differs: database has "
                + shorten(inDb.detail())
                + ", migrations define "
                + shorten(inMigrations.detail()));
      }
    }
    return out;
  }

  private static Set<String> tablesOnlyIn(SchemaFingerprint a, SchemaFingerprint b) {
    return a.items.values().stream()
        .filter(i -> i.kind().equals("table") && !b.items.containsKey(i.key()))
        .map(Item::name)
        .collect(Collectors.toSet());
  }

  private static boolean isFolded(Item item, Set<String> wholeTables) {
    return !item.kind().equals("table")
        && item.table() != null
        && wholeTables.contains(item.table());
  }

  private static String describe(Item item) {
    return item.detail().isEmpty() ? "" : " (" + shorten(item.detail()) + ")";
  }

  // Function and view bodies can be long; a sentence must stay readable in a log line.
  private static String shorten(String detail) {
    String oneLine = detail.replaceAll("\\s+", " ").trim();
    return oneLine.length() <= 160 ? oneLine : oneLine.substring(0, 157) + "...";
  }

  private static Pattern qualifierPattern(Collection<String> schemas) {
    String alternatives =
        schemas.stream()
            .map(s -> "\"" + Pattern.quote(s) + "\"|" + Pattern.quote(s))
            .collect(Collectors.joining("|"));
    return Pattern.compile("(?<![\\w$\"])(?:" + alternatives + ")\\.");
  }

  private static String strip(Pattern qualifier, String text) {
    return text == null ? "" : qualifier.matcher(text).replaceAll(Matcher.quoteReplacement(""));
  }

  @FunctionalInterface
  private interface RowReader {
    void read(ResultSet rs) throws SQLException;
  }

  private static void query(Connection c, String sql, String schema, RowReader reader)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          reader.read(rs);
        }
      }
    }
  }
}
