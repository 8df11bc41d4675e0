package io.outreach.loadtest;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Campaign sending at scale: campaigns of N recipients (default 10,000 and 100,000) through an
 * engine at {@code -Xmx256m} and an unthrottled standalone sandbox, from launch until every
 * delivery receipt (sent and delivered) is stored; journal rows written per send; peak heap;
 * and, in the same run, the raw durable-write ceiling of the same PostgreSQL (4 threads inserting
 * 100-row batches of journal-sized rows), giving the efficiency {@code sends/s / (raw rows/s /
 * 3)}.
 */
final class CampaignBenchmark {
  private CampaignBenchmark() {}

  /** How long to wait for the last receipts after a campaign completes. */
  private static final long RECEIPTS_WAIT_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(20);

  static void run(Options o) throws Exception {
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    List<Long> sizes = new ArrayList<>();
    for (String s : o.get("recipients", "10000,100000").split(",")) {
      sizes.add(Long.parseLong(s.trim()));
    }
    Path logs = Files.createTempDirectory("outreach-campaign-bench-");
    int sandboxPort = EngineProcess.freePort();
    Process sandbox = EngineProcess.startSandbox(jar, logs.resolve("sandbox.log"), sandboxPort);
    String sandboxUrl = "http://127.0.0.1:" + sandboxPort;
    try {
      awaitUp(sandboxUrl + "/sandbox/faults");
      try (EngineProcess engine =
          EngineProcess.start(
              jar,
              o.get("heap", "256m"),
              Map.of("OUTREACH_SANDBOX_URL", sandboxUrl, "OUTREACH_SANDBOX_SERVE", "off"))) {
        String platform = engine.token("platform", "platform");
        engine.send("POST", "/v1/tenants", platform, "application/json",
            HttpRequest.BodyPublishers.ofString(
                "{\"id\":\"bench\",\"name\":\"Bench\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":0}"));
        // One short code allowed the benchmark's rate: the throttle paces every sender, and the
        // sandbox short code's default 100 mps would make this a benchmark of the throttle.
        int mps = Integer.parseInt(o.get("mps", "10000"));
        engine.send("PATCH", "/v1/tenant", engine.token("bench", "admin"), "application/json",
            HttpRequest.BodyPublishers.ofString(
                "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\"short_code\",\"mps\":" + mps + "}]}"));
        String token = engine.token("bench", "operator");
        double raw = rawWriteCeiling(engine);
        System.out.printf("raw durable writes: 4 threads x 100-row batches of ~300-byte rows: %,.0f rows/s%n", raw);
        long first = 0;
        for (long n : sizes) {
          runOne(engine, token, first, n, raw); // each campaign its own people
          first += n;
        }
        System.out.println(engine.gcLine(o.get("heap", "256m")));
      }
    } finally {
      sandbox.destroy();
    }
  }

  private static void runOne(EngineProcess engine, String token, long first, long n, double raw) throws Exception {
    // Legal hours are the recipients': only people of zones where it is day now, or the run
    // would wait for their morning.
    String[] areas = IntakeBenchmark.areasInDaytime(java.time.Instant.now());
    if (areas.length == 0) {
      throw new IllegalStateException("no area code of the benchmark's list is inside legal hours now; run it in US daytime");
    }
    System.out.printf("people of area codes %s (inside their legal hours now)%n", String.join(", ", areas));
    Path csv = IntakeBenchmark.generate(first, n, areas);
    var imported = engine.send("POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
    String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
    while (engine.getJson("/v1/imports/" + importId, token).get("status").asText().equals("running")) {
      Thread.sleep(200);
    }
    Files.deleteIfExists(csv);
    String created =
        engine.send("POST", "/v1/campaigns", token, "application/json",
                HttpRequest.BodyPublishers.ofString(
                    "{\"name\":\"bench " + n + "\",\"channel\":\"sms\",\"audience\":{\"importId\":\"" + importId
                        + "\"},\"message\":\"Hi {{first_name}}, this is a benchmark\"}"))
            .body();
    String id = EngineProcess.JSON.readTree(created).get("id").asText();
    long journalBefore;
    long receiptsBefore;
    try (Connection c = engine.superuserConnection()) {
      journalBefore = count(c, "select count(*) from event_journal");
      receiptsBefore = count(c, "select count(*) from webhook_receipts");
    }
    long t0 = System.nanoTime();
    engine.send("POST", "/v1/campaigns/" + id + "/launch", token, null, HttpRequest.BodyPublishers.noBody());
    while (!engine.getJson("/v1/campaigns/" + id, token).get("state").asText().equals("completed")) {
      Thread.sleep(100);
    }
    long sentAt = System.nanoTime();
    var counts = engine.getJson("/v1/campaigns/" + id, token).get("counts");
    long sent = counts.get("sent").asLong();
    long expected = 2 * sent; // sent, then delivered
    long receipts;
    long journal;
    try (Connection c = engine.superuserConnection()) {
      do {
        Thread.sleep(100);
        receipts = count(c, "select count(*) from webhook_receipts") - receiptsBefore;
      } while (receipts < expected && System.nanoTime() - sentAt < RECEIPTS_WAIT_NANOS);
      journal = count(c, "select count(*) from event_journal") - journalBefore;
    }
    long done = System.nanoTime();
    double sendsPerSecond = sent / ((done - t0) / 1e9);
    System.out.println();
    System.out.printf("== campaign of %,d recipients ==%n", n);
    System.out.printf("recipients %d, sent %d, failed %d, blocked %s%n",
        counts.get("recipients").asLong(), sent, counts.get("failed").asLong(), counts.get("blocked"));
    System.out.printf("launch to completed          %.2f s  => %,.0f sends/s (provider calls)%n",
        (sentAt - t0) / 1e9, sent / ((sentAt - t0) / 1e9));
    if (receipts < expected) {
      System.out.printf("only %,d of %,d receipts stored %.0f s after completion: NO end-to-end figure%n",
          receipts, expected, (done - sentAt) / 1e9);
      return;
    }
    System.out.printf("launch to all %,d receipts  %.2f s  => %,.0f sends/s end to end%n", receipts, (done - t0) / 1e9, sendsPerSecond);
    System.out.printf("journal rows written         %,d = %.3f per send%n", journal, journal / (double) sent);
    System.out.printf("efficiency sends/s / (raw rows/s / 3) = %.2f   (target >= 0.25)%n", sendsPerSecond / (raw / 3));
  }

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** 4 threads, each committing 100-row batches of journal-sized rows for 10 s. */
  static double rawWriteCeiling(EngineProcess engine) throws Exception {
    try (Connection c = engine.superuserConnection(); Statement st = c.createStatement()) {
      st.execute("drop table if exists bench_raw_writes");
      st.execute("create table bench_raw_writes (id bigserial primary key, persistence_id text, seq bigint, payload bytea)");
    }
    AtomicLong rows = new AtomicLong();
    long deadline = System.nanoTime() + 10_000_000_000L;
    byte[] payload = new byte[300];
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      Thread th = new Thread(() -> {
        try (Connection c = engine.superuserConnection()) {
          c.setAutoCommit(false);
          try (PreparedStatement ps =
              c.prepareStatement("insert into bench_raw_writes (persistence_id, seq, payload) values (?, ?, ?)")) {
            long seq = 0;
            while (System.nanoTime() < deadline) {
              for (int i = 0; i < 100; i++) {
                ps.setString(1, "Block|bench:cmp:" + thread);
                ps.setLong(2, seq++);
                ps.setBytes(3, payload);
                ps.addBatch();
              }
              ps.executeBatch();
              c.commit();
              rows.addAndGet(100);
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) {
      th.join();
    }
    try (Connection c = engine.superuserConnection(); Statement st = c.createStatement()) {
      st.execute("drop table bench_raw_writes");
    }
    return rows.get() / 10.0;
  }

  private static void awaitUp(String url) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 300; i++) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not up yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("sandbox did not start");
  }
}
