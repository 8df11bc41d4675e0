package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.Reader;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.postgresql.PGConnection;

/**
 * Lead intake at scale: a generated CSV of N rows (default 1,000,000) imported through {@code POST
 * /v1/imports} into an engine at {@code -Xmx256m}, from the first byte sent until the import is
 * completed. In the same run, what bounds it:
 *
 * <ul>
 *   <li>a plain {@code COPY} of the same file into an unindexed scratch table of the same
 *       PostgreSQL, the ceiling the issue measures the import against;
 *   <li>a {@code COPY} of the same rows, as the import stores them, into a copy of {@code leads}
 *       with its indexes ({@code LIKE leads INCLUDING ALL}): the database work no import into
 *       {@code leads} can avoid;
 *   <li>parsing and normalizing the file in this JVM, one thread, no database: the engine's own
 *       share of the work.
 * </ul>
 */
final class IntakeBenchmark {
  private IntakeBenchmark() {}

  private static final String[] AREA_CODES = {
    "212", "305", "415", "312", "617", "713", "206", "404", "907", "702"
  };
  // What the import finds for those area codes: the state and, for the indexed COPY, one zone.
  private static final String[] STATES = {
    "NY", "FL", "CA", "IL", "MA", "TX", "WA", "GA", "AK", "NV"
  };
  private static final String[] ZONES = {
    "America/New_York", "America/New_York", "America/Los_Angeles", "America/Chicago",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/New_York",
    "America/Anchorage", "America/Los_Angeles"
  };

  static void run(Options o) throws Exception {
    long rows = o.getLong("rows", 1_000_000);
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    Path csv = generate(rows);
    System.out.printf("generated %,d rows, %,d bytes: %s%n", rows, Files.size(csv), csv);
    try (EngineProcess engine = EngineProcess.start(jar, o.get("heap", "256m"))) {
      String platform = engine.token("platform", "platform");
      engine.createTenant(platform, "bench", "Bench", "America/New_York");
      String token = engine.token("bench", "operator");

      long t0 = System.nanoTime();
      var accepted =
          engine.send(
              "POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
      long uploaded = System.nanoTime();
      if (accepted.statusCode() != 202) {
        throw new IllegalStateException(
            "upload refused: " + accepted.statusCode() + " " + accepted.body());
      }
      String id = EngineProcess.JSON.readTree(accepted.body()).get("id").asText();
      JsonNode status;
      do {
        Thread.sleep(100);
        status = engine.getJson("/v1/imports/" + id, token);
      } while (status.get("status").asText().equals("running"));
      long done = System.nanoTime();
      double importSeconds = (done - t0) / 1e9;
      double importRate = rows / importSeconds;
      List<String> phases = importLog(engine, id);

      double copySeconds = copyBaseline(engine, csv);
      double copyRate = rows / copySeconds;
      double indexedSeconds = indexedCopy(engine, rows);
      double indexedRate = rows / indexedSeconds;
      double normalizeSeconds = Math.min(normalizeOnly(jar, csv), normalizeOnly(jar, csv));
      double normalizeRate = rows / normalizeSeconds;

      System.out.println();
      System.out.println("== lead intake benchmark ==");
      System.out.printf("rows                      %,d%n", rows);
      System.out.printf(
          "import outcome            %s: rows=%d accepted=%d duplicates=%d rejected=%d%n",
          status.get("status").asText(),
          status.get("rows").asLong(),
          status.get("accepted").asLong(),
          status.get("duplicates").asLong(),
          status.get("rejected").asLong());
      System.out.printf("upload (HTTP, streamed)   %.2f s%n", (uploaded - t0) / 1e9);
      System.out.printf(
          "import end to end         %.2f s  = %,.0f rows/s%n", importSeconds, importRate);
      phases.forEach(line -> System.out.println("  engine: " + line));
      System.out.printf(
          "plain COPY, same rows     %.2f s  = %,.0f rows/s%n", copySeconds, copyRate);
      System.out.printf(
          "ratio import / COPY       %.2f   (target >= 0.50)%n", importRate / copyRate);
      System.out.printf(
          "COPY of the rows as leads stores them into LIKE leads INCLUDING ALL (its indexes, no RLS):"
              + " %.2f s = %,.0f rows/s; import / that = %.2f%n",
          indexedSeconds, indexedRate, importRate / indexedRate);
      System.out.printf(
          "parse+normalize only (1 thread, no database, best of 2): %.2f s = %,.0f rows/s%n",
          normalizeSeconds, normalizeRate);
      System.out.printf(
          "bounds on the ratio: indexed COPY / plain COPY = %.2f; normalize-only / plain COPY = %.2f%n",
          indexedRate / copyRate, normalizeRate / copyRate);
      System.out.println(engine.gcLine(o.get("heap", "256m")));
    } finally {
      Files.deleteIfExists(csv);
    }
  }

  /** Rows with unique valid US numbers, names, emails and a few other columns. */
  static Path generate(long rows) throws Exception {
    return generate(0, rows);
  }

  /** Rows {@code first} to {@code first + rows - 1} of one sequence of distinct numbers. */
  static Path generate(long first, long rows) throws Exception {
    return generate(first, rows, AREA_CODES);
  }

  /**
   * The area codes of the list whose zone's local time is between 9:00 and 19:00 at {@code now}:
   * people a campaign may reach now (legal hours are 8:00-21:00 local), with room for a long run;
   * during the US night, Guam's.
   */
  static String[] areasInDaytime(java.time.Instant now) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < AREA_CODES.length; i++) {
      if (daytime(now, ZONES[i])) {
        out.add(AREA_CODES[i]);
      }
    }
    if (out.isEmpty() && daytime(now, NIGHT_ZONE)) {
      out.add(NIGHT_AREA);
    }
    return out.toArray(String[]::new);
  }

  /**
   * The area codes of the list split by whether their zone's local time is inside the federal legal
   * hours (8:00-21:00) at {@code now}: {@code [inside, outside]}.
   */
  static String[][] areasByLegalHours(java.time.Instant now) {
    List<String> inside = new ArrayList<>();
    List<String> outside = new ArrayList<>();
    for (int i = 0; i < AREA_CODES.length; i++) {
      int hour = now.atZone(java.time.ZoneId.of(ZONES[i])).getHour();
      (hour >= 8 && hour < 21 ? inside : outside).add(AREA_CODES[i]);
    }
    return new String[][] {inside.toArray(String[]::new), outside.toArray(String[]::new)};
  }

  /** Guam (NANP, a US territory, UTC+10): in daytime while it is night in the 50 states. */
  private static final String NIGHT_AREA = "671";

  private static final String NIGHT_ZONE = "Pacific/Guam";

  private static boolean daytime(java.time.Instant now, String zone) {
    int hour = now.atZone(java.time.ZoneId.of(zone)).getHour();
    return hour >= 9 && hour < 19;
  }

  /** As {@link #generate(long, long)}, with numbers of {@code areas} only. */
  static Path generate(long first, long rows, String[] areas) throws Exception {
    Path csv = Files.createTempFile("intake-bench-", ".csv");
    Random random = new Random(42 + first);
    try (BufferedWriter w = Files.newBufferedWriter(csv)) {
      w.write("first_name,last_name,phone,email,company,city,state,zip\n");
      for (long i = first; i < first + rows; i++) {
        String area = areas[(int) (i % areas.length)];
        long n = i / areas.length;
        String exchange = Long.toString(200 + n / 10_000);
        String line = String.format("%04d", n % 10_000);
        w.write(
            "First"
                + i
                + ",Last"
                + random.nextInt(10_000)
                + ",("
                + area
                + ") "
                + exchange
                + "-"
                + line
                + ",person"
                + i
                + "@example.com,Company "
                + (i % 997)
                + ",City,,"
                + String.format("%05d", random.nextInt(100_000))
                + "\n");
      }
    }
    return csv;
  }

  /** The import's own account of its phases, from the engine log. */
  private static List<String> importLog(EngineProcess engine, String importId) throws Exception {
    return Files.readAllLines(engine.dataDir.resolve("engine.log")).stream()
        .filter(l -> l.contains("LeadImportProcessor") && l.contains(importId))
        .map(l -> l.substring(l.indexOf(" - ") + 3))
        .toList();
  }

  /**
   * COPY of the same file into an unindexed scratch table, in one transaction, as the superuser.
   */
  static double copyBaseline(EngineProcess engine, Path csv) throws Exception {
    try (Connection c = engine.superuserConnection()) {
      try (Statement st = c.createStatement()) {
        st.execute("drop table if exists bench_copy_scratch");
        st.execute(
            "create table bench_copy_scratch (first_name text, last_name text, phone text, email text,"
                + " company text, city text, state text, zip text)");
      }
      c.setAutoCommit(false);
      long t0 = System.nanoTime();
      try (Reader r = Files.newBufferedReader(csv)) {
        c.unwrap(PGConnection.class)
            .getCopyAPI()
            .copyIn(
                "copy bench_copy_scratch (first_name, last_name, phone, email, company, city, state, zip)"
                    + " from stdin with (format csv, header true)",
                r);
      }
      c.commit();
      double seconds = (System.nanoTime() - t0) / 1e9;
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        st.execute("drop table bench_copy_scratch");
      }
      return seconds;
    }
  }

  /**
   * COPY of the generated rows in the form the import stores them (E.164 phones, time-ordered ids,
   * state and zone from the area code, every column of leads) into a copy of {@code leads} with all
   * its indexes and constraints, in one transaction, as the superuser (COPY is not allowed under
   * row-level security; the import itself has to merge with INSERT).
   */
  static double indexedCopy(EngineProcess engine, long rows) throws Exception {
    try (Connection c = engine.superuserConnection()) {
      try (Statement st = c.createStatement()) {
        st.execute("drop table if exists bench_leads_scratch");
        st.execute("create table bench_leads_scratch (like leads including all)");
      }
      c.setAutoCommit(false);
      long t0 = System.nanoTime();
      var copy =
          c.unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn(
                  "copy bench_leads_scratch (tenant_id, lead_id, phone, email, first_name, last_name,"
                      + " company, city, state, zip, timezones, attributes, import_id, created_at,"
                      + " updated_at) from stdin");
      Random random = new Random(42);
      StringBuilder row = new StringBuilder(256);
      String now = java.time.Instant.now().toString();
      long millis = System.currentTimeMillis();
      for (long i = 0; i < rows; i++) {
        int a = (int) (i % AREA_CODES.length);
        long n = i / AREA_CODES.length;
        row.setLength(0);
        row.append("bench\t")
            .append(timeOrderedId(millis + i / 300, random))
            .append("\t+1")
            .append(AREA_CODES[a])
            .append(200 + n / 10_000)
            .append(String.format("%04d", n % 10_000))
            .append("\tperson")
            .append(i)
            .append("@example.com\tFirst")
            .append(i)
            .append("\tLast")
            .append(random.nextInt(10_000))
            .append("\tCompany ")
            .append(i % 997)
            .append("\tCity\t")
            .append(STATES[a])
            .append('\t')
            .append(String.format("%05d", random.nextInt(100_000)))
            .append("\t{")
            .append(ZONES[a])
            .append("}\t{}\timp_bench\t")
            .append(now)
            .append('\t')
            .append(now)
            .append('\n');
        byte[] bytes = row.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
      }
      copy.endCopy();
      c.commit();
      double seconds = (System.nanoTime() - t0) / 1e9;
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        st.execute("drop table bench_leads_scratch");
      }
      return seconds;
    }
  }

  /** A version 7 UUID as the engine makes them: milliseconds, then random bits. */
  private static UUID timeOrderedId(long millis, Random random) {
    long high = (millis << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low);
  }

  /**
   * Reads and normalizes the file with the engine jar's own classes, in this JVM, on one thread,
   * with no database: the CPU the engine spends per row before PostgreSQL sees it. Answers the
   * seconds taken.
   */
  static double normalizeOnly(Path engineJar, Path csv) throws Exception {
    try (URLClassLoader loader =
        new URLClassLoader(
            new URL[] {engineJar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
      Class<?> records = loader.loadClass("io.outreach.engine.lead.CsvRecords");
      Class<?> record = loader.loadClass("io.outreach.engine.lead.CsvRecord");
      Class<?> columns = loader.loadClass("io.outreach.engine.lead.LeadColumns");
      Class<?> normalizer = loader.loadClass("io.outreach.engine.lead.LeadNormalizer");
      Class<?> acceptedType = loader.loadClass("io.outreach.engine.lead.LeadNormalizer$Accepted");
      Method open = records.getMethod("open", Reader.class);
      Method header = records.getMethod("header");
      Method hasNext = records.getMethod("hasNext");
      Method next = records.getMethod("next");
      Method close = records.getMethod("close");
      Method columnsOf = columns.getMethod("of", List.class);
      Method normalize = normalizer.getMethod("normalize", record, columns);
      Object leadNormalizer =
          normalizer
              .getConstructor(String.class, ZoneId.class)
              .newInstance("US", ZoneId.of("America/New_York"));
      long t0 = System.nanoTime();
      long accepted = 0;
      try (BufferedReader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
        Object rows = open.invoke(null, in);
        try {
          Object cols = columnsOf.invoke(null, header.invoke(rows));
          while ((Boolean) hasNext.invoke(rows)) {
            if (acceptedType.isInstance(
                normalize.invoke(leadNormalizer, next.invoke(rows), cols))) {
              accepted++;
            }
          }
        } finally {
          close.invoke(rows);
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (accepted == 0) {
        throw new IllegalStateException("the normalizer accepted no row");
      }
      return seconds;
    }
  }
}
