package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.Reader;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Random;
import org.postgresql.PGConnection;

/**
 * Lead intake at scale: a generated CSV of N rows (default 1,000,000) imported through {@code
 * POST /v1/imports} into an engine at {@code -Xmx256m}, from the first byte sent until the import
 * is completed; and, in the same run and the same PostgreSQL, a plain {@code COPY} of the same
 * file into a scratch table, the ceiling an import is measured against.
 */
final class IntakeBenchmark {
  private IntakeBenchmark() {}

  static void run(Options o) throws Exception {
    long rows = o.getLong("rows", 1_000_000);
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    Path csv = generate(rows);
    System.out.printf("generated %,d rows, %,d bytes: %s%n", rows, Files.size(csv), csv);
    try (EngineProcess engine = EngineProcess.start(jar, o.get("heap", "256m"))) {
      String platform = engine.token("platform", "platform");
      engine.send(
          "POST", "/v1/tenants", platform, "application/json",
          HttpRequest.BodyPublishers.ofString(
              "{\"id\":\"bench\",\"name\":\"Bench\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":0}"));
      String token = engine.token("bench", "operator");

      long t0 = System.nanoTime();
      var accepted = engine.send("POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
      long uploaded = System.nanoTime();
      if (accepted.statusCode() != 202) {
        throw new IllegalStateException("upload refused: " + accepted.statusCode() + " " + accepted.body());
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

      double copySeconds = copyBaseline(engine, csv, false);
      double copyRate = rows / copySeconds;
      double indexedSeconds = copyBaseline(engine, csv, true);
      double indexedRate = rows / indexedSeconds;

      System.out.println();
      System.out.println("== lead intake benchmark ==");
      System.out.printf("rows                      %,d%n", rows);
      System.out.printf("import outcome            %s: rows=%d accepted=%d duplicates=%d rejected=%d%n",
          status.get("status").asText(), status.get("rows").asLong(), status.get("accepted").asLong(),
          status.get("duplicates").asLong(), status.get("rejected").asLong());
      System.out.printf("upload (HTTP, streamed)   %.2f s%n", (uploaded - t0) / 1e9);
      System.out.printf("import end to end         %.2f s  = %,.0f rows/s%n", importSeconds, importRate);
      System.out.printf("plain COPY, same rows     %.2f s  = %,.0f rows/s%n", copySeconds, copyRate);
      System.out.printf("ratio import / COPY       %.2f   (target >= 0.50)%n", importRate / copyRate);
      System.out.printf("COPY into a table indexed like leads (uuid key, serial, unique phone, email):"
          + " %.2f s = %,.0f rows/s; import / that = %.2f%n", indexedSeconds, indexedRate, importRate / indexedRate);
      System.out.printf("engine peak heap used     %.1f MiB of -Xmx%s (sampled every 100 ms from /metrics)%n",
          engine.peakHeapBytes() / 1048576.0, o.get("heap", "256m"));
    } finally {
      Files.deleteIfExists(csv);
    }
  }

  /** Rows with unique valid US numbers, names, emails and a few other columns. */
  static Path generate(long rows) throws Exception {
    Path csv = Files.createTempFile("intake-bench-", ".csv");
    String[] areaCodes = {"212", "305", "415", "312", "617", "713", "206", "404", "907", "702"};
    Random random = new Random(42);
    try (BufferedWriter w = Files.newBufferedWriter(csv)) {
      w.write("first_name,last_name,phone,email,company,city,state,zip\n");
      for (long i = 0; i < rows; i++) {
        String area = areaCodes[(int) (i % areaCodes.length)];
        long n = i / areaCodes.length;
        String exchange = Long.toString(200 + n / 10_000);
        String line = String.format("%04d", n % 10_000);
        w.write("First" + i + ",Last" + random.nextInt(10_000) + ",(" + area + ") " + exchange + "-" + line
            + ",person" + i + "@example.com,Company " + (i % 997) + ",City,,"
            + String.format("%05d", random.nextInt(100_000)) + "\n");
      }
    }
    return csv;
  }

  /**
   * COPY of the same file into a scratch table in one transaction, as the superuser; {@code
   * indexed} gives the table the index shape of {@code leads}, to show what indexing costs.
   */
  static double copyBaseline(EngineProcess engine, Path csv, boolean indexed) throws Exception {
    try (Connection c = engine.superuserConnection()) {
      try (Statement st = c.createStatement()) {
        st.execute("drop table if exists bench_copy_scratch");
        st.execute(
            "create table bench_copy_scratch (first_name text, last_name text, phone text, email text,"
                + " company text, city text, state text, zip text)");
        if (indexed) {
          st.execute("alter table bench_copy_scratch add column lead_id uuid primary key default gen_random_uuid()");
          st.execute("alter table bench_copy_scratch add column seq bigint generated always as identity unique");
          st.execute("create unique index on bench_copy_scratch (phone)");
          st.execute("create index on bench_copy_scratch (email)");
        }
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
}
