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
 * delivery receipt (sent and delivered) is stored; journal rows written per send; peak heap; and,
 * in the same run, the raw durable-write ceiling of the same PostgreSQL (4 threads inserting
 * 100-row batches of journal-sized rows), giving the efficiency {@code sends/s / (raw rows/s / 3)}.
 * Then lists of {@code --mixed N} (default 10,000) through three senders at {@code --mixed-mps}
 * (default 100) each: one all inside its legal hours (the baseline), one of every area code, some
 * outside their hours now: sends/s until everyone who may be contacted now has been, while the
 * deferred ones wait.
 */
final class CampaignBenchmark {
  private CampaignBenchmark() {}

  /** How long to wait for the last receipts after a campaign completes. */
  private static final long RECEIPTS_WAIT_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(20);

  static void run(Options o) throws Exception {
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    List<Long> sizes = new ArrayList<>();
    for (String s : o.get("recipients", "10000,100000").split(",")) {
      if (Long.parseLong(s.trim()) > 0) { // 0: none (the mixed case alone)
        sizes.add(Long.parseLong(s.trim()));
      }
    }
    Path logs = Files.createTempDirectory("outreach-campaign-bench-");
    int sandboxPort = EngineProcess.freePort();
    String sandboxUrl = "http://127.0.0.1:" + sandboxPort;
    try (EngineProcess engine =
        EngineProcess.start(
            jar,
            o.get("heap", "256m"),
            Map.of("OUTREACH_SANDBOX_URL", sandboxUrl, "OUTREACH_SANDBOX_SERVE", "off"))) {
      // The sandbox posts receipts only to the engine: it starts once the engine's port is known.
      Process sandbox =
          EngineProcess.startSandbox(
              jar, logs.resolve("sandbox.log"), sandboxPort, "http://127.0.0.1:" + engine.port);
      try {
        awaitUp(sandboxUrl + "/sandbox/stats");
        String platform = engine.token("platform", "platform");
        engine.createTenant(platform, "bench", "Bench", "UTC");
        // One short code allowed the benchmark's rate: the throttle paces every sender, and the
        // sandbox short code's default 100 mps would make this a benchmark of the throttle.
        int mps = Integer.parseInt(o.get("mps", "10000"));
        engine.send(
            "PATCH",
            "/v1/tenant",
            engine.token("bench", "admin"),
            "application/json",
            HttpRequest.BodyPublishers.ofString(
                "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\"short_code\",\"mps\":"
                    + mps
                    + "}]}"));
        String token = engine.token("bench", "operator");
        double raw = rawWriteCeiling(engine);
        System.out.printf(
            "raw durable writes: 4 threads x 100-row batches of ~300-byte rows: %,.0f rows/s%n",
            raw);
        long first = 0;
        for (long n : sizes) {
          runOne(engine, token, first, n, raw); // each campaign its own people
          first += n;
        }
        long mixed = Long.parseLong(o.get("mixed", "10000"));
        if (mixed > 0) {
          runMixed(engine, platform, first, mixed, Integer.parseInt(o.get("mixed-mps", "100")));
        }
        System.out.println(engine.gcLine(o.get("heap", "256m")));
      } finally {
        sandbox.destroy();
      }
    }
  }

  private static void runOne(EngineProcess engine, String token, long first, long n, double raw)
      throws Exception {
    // Legal hours are the recipients': only people of zones where it is day now, or the run
    // would wait for their morning.
    String[] areas = IntakeBenchmark.areasInDaytime(java.time.Instant.now());
    if (areas.length == 0) {
      throw new IllegalStateException(
          "no area code of the benchmark's list is inside legal hours now; run it in US daytime");
    }
    System.out.printf(
        "people of area codes %s (inside their legal hours now)%n", String.join(", ", areas));
    Path csv = IntakeBenchmark.generate(first, n, areas);
    var imported =
        engine.send(
            "POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
    String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
    engine.awaitImport(importId, token);
    Files.deleteIfExists(csv);
    String created =
        engine
            .send(
                "POST",
                "/v1/campaigns",
                token,
                "application/json",
                HttpRequest.BodyPublishers.ofString(
                    "{\"name\":\"bench "
                        + n
                        + "\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                        + importId
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
    engine.send(
        "POST",
        "/v1/campaigns/" + id + "/launch",
        token,
        null,
        HttpRequest.BodyPublishers.noBody());
    while (!engine
        .getJson("/v1/campaigns/" + id, token)
        .get("state")
        .asText()
        .equals("completed")) {
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
    System.out.printf(
        "recipients %d, sent %d, failed %d, blocked %s%n",
        counts.get("recipients").asLong(),
        sent,
        counts.get("failed").asLong(),
        counts.get("blocked"));
    System.out.printf(
        "launch to completed          %.2f s  => %,.0f sends/s (provider calls)%n",
        (sentAt - t0) / 1e9, sent / ((sentAt - t0) / 1e9));
    if (receipts < expected) {
      System.out.printf(
          "only %,d of %,d receipts stored %.0f s after completion: NO end-to-end figure%n",
          receipts, expected, (done - sentAt) / 1e9);
      return;
    }
    System.out.printf(
        "launch to all %,d receipts  %.2f s  => %,.0f sends/s end to end%n",
        receipts, (done - t0) / 1e9, sendsPerSecond);
    System.out.printf(
        "journal rows written         %,d = %.3f per send%n", journal, journal / (double) sent);
    System.out.printf(
        "efficiency sends/s / (raw rows/s / 3) = %.2f   (target >= 0.25)%n",
        sendsPerSecond / (raw / 3));
  }

  /**
   * A national list, some of it outside its legal hours now, through three senders at {@code mps},
   * after a list of the same size all inside its hours through the same senders (the baseline): for
   * each, from launch until everyone who may be contacted now has an outcome (the rest wait),
   * sends/s against the senders' combined rate, and what the campaign says it waits for.
   */
  private static void runMixed(EngineProcess engine, String platform, long first, long n, int mps)
      throws Exception {
    String[][] split = IntakeBenchmark.areasByLegalHours(java.time.Instant.now());
    System.out.println();
    System.out.printf("== lists of %,d recipients through 3 senders at %d mps ==%n", n, mps);
    if (split[0].length == 0 || split[1].length == 0) {
      System.out.printf(
          "skipped: every area code of the list is %s its legal hours now%n",
          split[0].length == 0 ? "outside" : "inside");
      return;
    }
    System.out.printf(
        "inside their legal hours now: %s; outside: %s%n",
        String.join(", ", split[0]), String.join(", ", split[1]));
    engine.createTenant(platform, "mixed", "Mixed", "America/New_York");
    StringBuilder senders = new StringBuilder("{\"senders\":[");
    for (int s = 1; s <= 3; s++) {
      senders
          .append(s > 1 ? "," : "")
          .append("{\"provider\":\"twilio\",\"from\":\"+1555010010")
          .append(s)
          .append("\",\"kind\":\"short_code\",\"mps\":")
          .append(mps)
          .append('}');
    }
    engine.send(
        "PATCH",
        "/v1/tenant",
        engine.token("mixed", "admin"),
        "application/json",
        HttpRequest.BodyPublishers.ofString(senders.append("]}").toString()));
    String token = engine.token("mixed", "operator");
    String[] all = new String[split[0].length + split[1].length];
    System.arraycopy(split[0], 0, all, 0, split[0].length);
    System.arraycopy(split[1], 0, all, split[0].length, split[1].length);
    untilContactableSent(
        engine, token, "all inside their hours (baseline)", first, n, split[0], 3 * mps);
    // Numbers are the area code's n-th (i / areas): a start this far on shares none with the
    // baseline.
    untilContactableSent(
        engine, token, "national list (every area code)", 10 * (first + n), n, all, 3 * mps);
  }

  /**
   * Imports {@code n} people of {@code areas}, launches a campaign to them and waits until everyone
   * who may be contacted now has an outcome and every block is finished or waiting; prints the
   * figures and cancels the campaign (the others would go at their morning).
   */
  private static void untilContactableSent(
      EngineProcess engine,
      String token,
      String label,
      long first,
      long n,
      String[] areas,
      int allowed)
      throws Exception {
    Path csv = IntakeBenchmark.generate(first, n, areas);
    var imported =
        engine.send(
            "POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
    String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
    engine.awaitImport(importId, token);
    Files.deleteIfExists(csv);
    String created =
        engine
            .send(
                "POST",
                "/v1/campaigns",
                token,
                "application/json",
                HttpRequest.BodyPublishers.ofString(
                    "{\"name\":\""
                        + label
                        + "\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                        + importId
                        + "\"},\"message\":\"Hi {{first_name}}, this is a benchmark\"}"))
            .body();
    String id = EngineProcess.JSON.readTree(created).get("id").asText();
    long t0 = System.nanoTime();
    engine.send(
        "POST",
        "/v1/campaigns/" + id + "/launch",
        token,
        null,
        HttpRequest.BodyPublishers.noBody());
    com.fasterxml.jackson.databind.JsonNode view;
    long firstDeferralAt = 0;
    long sentAtFirstDeferral = 0;
    while (true) {
      view = engine.getJson("/v1/campaigns/" + id, token);
      var c = view.get("counts");
      long blocked = 0;
      for (var b : c.get("blocked")) {
        blocked += b.asLong();
      }
      long decided = c.get("sent").asLong() + c.get("failed").asLong() + blocked;
      if (firstDeferralAt == 0 && c.get("deferred").asLong() > 0) {
        firstDeferralAt = System.nanoTime();
        sentAtFirstDeferral = c.get("sent").asLong();
      }
      int blocks = view.get("blocks").asInt();
      if (blocks > 0
          && decided + c.get("deferred").asLong() == c.get("recipients").asLong()
          && blocks == view.get("blocksFinished").asInt() + view.get("blocksWaiting").asInt()) {
        break;
      }
      if (System.nanoTime() - t0 > RECEIPTS_WAIT_NANOS) {
        System.out.printf("gave up after %.0f s: %s%n", (System.nanoTime() - t0) / 1e9, view);
        return;
      }
      Thread.sleep(100);
    }
    long t1 = System.nanoTime();
    var c = view.get("counts");
    long sent = c.get("sent").asLong();
    System.out.printf("-- %s --%n", label);
    System.out.printf(
        "recipients %d: sent %d, failed %d, deferred %d %s, next due %s%n",
        c.get("recipients").asLong(),
        sent,
        c.get("failed").asLong(),
        c.get("deferred").asLong(),
        c.get("deferredBy"),
        view.get("nextDueAt").asText());
    System.out.printf(
        "blocks %d: %d finished, %d waiting (holding no slot)%n",
        view.get("blocks").asInt(),
        view.get("blocksFinished").asInt(),
        view.get("blocksWaiting").asInt());
    System.out.printf(
        "launch until everyone contactable now was sent: %.2f s => %,.0f sends/s (senders allow %d/s)%n",
        (t1 - t0) / 1e9, sent / ((t1 - t0) / 1e9), allowed);
    if (firstDeferralAt > 0 && t1 > firstDeferralAt) {
      System.out.printf(
          "while deferrals existed (from the first one on): %.2f s => %,.0f sends/s%n",
          (t1 - firstDeferralAt) / 1e9,
          (sent - sentAtFirstDeferral) / ((t1 - firstDeferralAt) / 1e9));
    }
    engine.send(
        "POST",
        "/v1/campaigns/" + id + "/cancel",
        token,
        null,
        HttpRequest.BodyPublishers.noBody());
  }

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** 4 threads, each committing 100-row batches of journal-sized rows for 10 s. */
  static double rawWriteCeiling(EngineProcess engine) throws Exception {
    try (Connection c = engine.superuserConnection();
        Statement st = c.createStatement()) {
      st.execute("drop table if exists bench_raw_writes");
      st.execute(
          "create table bench_raw_writes (id bigserial primary key, persistence_id text, seq bigint, payload bytea)");
    }
    AtomicLong rows = new AtomicLong();
    long deadline = System.nanoTime() + 10_000_000_000L;
    byte[] payload = new byte[300];
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      Thread th =
          new Thread(
              () -> {
                try (Connection c = engine.superuserConnection()) {
                  c.setAutoCommit(false);
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "insert into bench_raw_writes (persistence_id, seq, payload) values (?, ?, ?)")) {
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
    try (Connection c = engine.superuserConnection();
        Statement st = c.createStatement()) {
      st.execute("drop table bench_raw_writes");
    }
    return rows.get() / 10.0;
  }

  /** Waits up to a minute for {@code url} to answer 200 (a process starting). */
  static void awaitUp(String url) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 300; i++) {
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not up yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(url + " did not answer");
  }
}
