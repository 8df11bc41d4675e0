package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Signed inbound webhooks against a running engine: at fixed rates (open loop, latency from each
 * request's scheduled time, so a stall is not hidden), req/s and p50/p99 with persist-before-2xx;
 * the highest throughput of the engine and, in the same run, of a trivial Pekko HTTP endpoint on
 * the same machine (ratio); and STOP-to-silence: STOPs sent for numbers a running campaign is about
 * to reach, and for each the time from the STOP's 200 to the last provider call to that number (it
 * must be before the 200).
 */
final class InboundBenchmark {
  /** The sandbox's public test auth token, which the engine's defaults verify with. */
  private static final String TWILIO_TOKEN = "sandbox-twilio-auth-token";

  /**
   * The closed loop's connections to each server, each run in turn (--connections): a server's
   * highest throughput is its best of them. The open loop may use as many (its most in flight).
   */
  private static final String CONNECTIONS = "64,256";

  private static final int WARM_UP_SECONDS = 60;

  private InboundBenchmark() {}

  static void run(Options o) throws Exception {
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    Path loadtestJar = Path.of(o.get("loadtest-jar", "loadtest/target/outreach-loadtest.jar"));
    int seconds = Integer.parseInt(o.get("seconds", "15"));
    List<Integer> connectionCounts = new ArrayList<>();
    for (String c : o.get("connections", CONNECTIONS).split(",")) {
      connectionCounts.add(Integer.parseInt(c.trim()));
    }
    int connections = connectionCounts.stream().max(Integer::compare).orElseThrow();
    List<Integer> rates = new ArrayList<>();
    for (String r : o.get("rates", "100,250,500,1000").split(",")) {
      rates.add(Integer.parseInt(r.trim()));
    }
    int trivialPort = EngineProcess.freePort();
    Path logs = Files.createTempDirectory("outreach-inbound-bench-");
    Process trivial =
        new ProcessBuilder(
                JavaCommand.java(),
                "-Xmx256m",
                "-cp",
                loadtestJar.toString(),
                TrivialServer.class.getName(),
                Integer.toString(trivialPort))
            .redirectErrorStream(true)
            .redirectOutput(logs.resolve("trivial.log").toFile())
            .start();
    try (EngineProcess engine = EngineProcess.start(jar, o.get("heap", "256m"))) {
      String platform = engine.token("platform", "platform");
      engine.createTenant(platform, "bench", "Bench", "UTC");
      String engineUrl = "http://127.0.0.1:" + engine.port;
      String trivialUrl = "http://127.0.0.1:" + trivialPort;
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      awaitUp(http, trivialUrl);
      LoadClient toEngine = new LoadClient("127.0.0.1", engine.port, connections);
      LoadClient toTrivial = new LoadClient("127.0.0.1", trivialPort, connections);
      String path = "/webhooks/twilio/bench/sms";

      // The figures are of a warmed-up engine: on 2 cores the JIT's compiler threads take most of
      // a core for the first 20-30 s of load, and writes stalled for 100-300 ms now and then in
      // the first minute (seen in the engine's own timing), rarely after.
      System.out.println("warm-up: " + WARM_UP_SECONDS + " s at 300 req/s on each");
      openLoop(toEngine, path, 300, WARM_UP_SECONDS, 0);
      openLoop(toTrivial, path, 300, WARM_UP_SECONDS, 0);

      System.out.println();
      System.out.println("signed inbound webhooks (Twilio form, persist-before-2xx), open loop:");
      System.out.println(
          "  (trivial: the same load on the trivial endpoint, this client's and machine's floor)");
      System.out.println(
          "  offered req/s   achieved req/s   p50 ms   p99 ms   max ms   non-2xx   trivial p50 ms   trivial p99 ms");
      long seq = 1_000_000;
      for (int rate : rates) {
        Result r = openLoop(toEngine, path, rate, seconds, seq);
        seq += r.requests();
        Result t = openLoop(toTrivial, path, rate, seconds, seq);
        seq += t.requests();
        System.out.printf(
            "  %13d   %14.0f   %6.1f   %6.1f   %6.1f   %7d   %14.1f   %14.1f%n",
            rate, r.achieved, r.p50, r.p99, r.max, r.failed, t.p50, t.p99);
      }
      System.out.println();
      System.out.printf(
          "highest throughput, closed loop (each connection always has a request open), %d s each:%n",
          seconds);
      System.out.println(
          "  connections   engine req/s   engine p99 ms   trivial req/s   trivial p99 ms");
      double engineBest = 0;
      double trivialBest = 0;
      for (int n : connectionCounts) {
        Result e = closedLoop(toEngine, path, n, seconds, seq);
        seq += e.requests();
        Result t = closedLoop(toTrivial, path, n, seconds, seq);
        seq += t.requests();
        System.out.printf(
            "  %11d   %12.0f   %13.1f   %13.0f   %14.1f%n",
            n, e.achieved(), e.p99(), t.achieved(), t.p99());
        engineBest = Math.max(engineBest, e.achieved());
        trivialBest = Math.max(trivialBest, t.achieved());
      }
      toEngine.close();
      toTrivial.close();
      System.out.printf(
          "  engine (verify, store in a group commit, answer): best %.0f req/s%n", engineBest);
      System.out.printf(
          "  trivial Pekko HTTP endpoint (parse, answer):      best %.0f req/s%n", trivialBest);
      System.out.printf(
          "  ratio engine / trivial = %.2f   (target >= 0.25)%n", engineBest / trivialBest);

      stopToSilence(engine, http, engineUrl);
      System.out.println(engine.gcLine(o.get("heap", "256m")));
    } finally {
      trivial.destroy();
    }
  }

  /** A run's figures; {@code requests}: how many were sent (each with a new MessageSid). */
  record Result(double achieved, double p50, double p99, double max, long failed, long requests) {}

  /** {@code rate} requests per second for {@code seconds}, each timed from when it was due. */
  static Result openLoop(LoadClient client, String path, int rate, int seconds, long firstSid)
      throws Exception {
    Recorder recorder = new Recorder(3);
    AtomicLong failed = new AtomicLong();
    long total = (long) rate * seconds;
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch((int) total);
    ScheduledExecutorService tick = Executors.newSingleThreadScheduledExecutor();
    long periodNanos = 1_000_000_000L / rate;
    long t0 = System.nanoTime();
    AtomicLong next = new AtomicLong();
    tick.scheduleAtFixedRate(
        () -> {
          long due = (System.nanoTime() - t0) / periodNanos;
          while (next.get() <= due && next.get() < total) {
            long i = next.getAndIncrement();
            client.submit(
                request(client, path, firstSid + i),
                t0 + i * periodNanos,
                (nanos, status) -> {
                  recorder.recordValue(Math.max(1, nanos / 1000));
                  if (status / 100 != 2) {
                    failed.incrementAndGet();
                  }
                  done.countDown();
                });
          }
        },
        0,
        1,
        TimeUnit.MILLISECONDS);
    boolean all = done.await(seconds + 120L, TimeUnit.SECONDS);
    tick.shutdown();
    double elapsed = (System.nanoTime() - t0) / 1e9;
    Histogram h = recorder.getIntervalHistogram();
    return new Result(
        (total - done.getCount()) / elapsed,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        failed.get() + (all ? 0 : done.getCount()),
        total);
  }

  /** {@code connections} requests always open, for {@code seconds}: the highest throughput. */
  static Result closedLoop(
      LoadClient client, String path, int connections, int seconds, long firstSid)
      throws Exception {
    Recorder recorder = new Recorder(3);
    AtomicLong sid = new AtomicLong(firstSid);
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    java.util.concurrent.CountDownLatch chains =
        new java.util.concurrent.CountDownLatch(connections);
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
    for (int c = 0; c < connections; c++) {
      next(client, path, sid, end, recorder, done, failed, chains);
    }
    chains.await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - t0) / 1e9;
    Histogram h = recorder.getIntervalHistogram();
    return new Result(
        done.get() / elapsed,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        failed.get(),
        sid.get() - firstSid);
  }

  /** One request of a closed loop; its answer sends the next until {@code end}. */
  private static void next(
      LoadClient client,
      String path,
      AtomicLong sid,
      long end,
      Recorder recorder,
      AtomicLong done,
      AtomicLong failed,
      java.util.concurrent.CountDownLatch chains) {
    long now = System.nanoTime();
    if (now >= end) {
      chains.countDown();
      return;
    }
    client.submit(
        request(client, path, sid.getAndIncrement()),
        now,
        (nanos, status) -> {
          recorder.recordValue(Math.max(1, nanos / 1000));
          done.incrementAndGet();
          if (status / 100 != 2) {
            failed.incrementAndGet();
          }
          next(client, path, sid, end, recorder, done, failed, chains);
        });
  }

  /** The webhook for {@code sid} as the bytes {@code client} sends, signed for its server's URL. */
  static byte[] request(LoadClient client, String path, long sid) {
    String base = "http://" + client.address().getHostString() + ":" + client.address().getPort();
    Signed signed = signed(base + path, sid, from(sid), "thanks " + sid);
    return LoadClient.post(
        client.address(),
        path,
        "application/x-www-form-urlencoded",
        signed.form().getBytes(StandardCharsets.UTF_8),
        "X-Twilio-Signature: " + signed.signature());
  }

  /** One of 2,000 numbers (people who write back, again and again). */
  private static String from(long sid) {
    return "+1212" + (600 + (sid % 2000) / 10_000) + String.format("%04d", sid % 2000);
  }

  /** A Twilio inbound-message webhook's form and its signature. */
  record Signed(String form, String signature) {}

  /**
   * A Twilio inbound-message webhook to {@code url}, signed as Twilio signs it (base64 HMAC-SHA1
   * over the URL and the sorted params).
   */
  static Signed signed(String url, long sid, String from, String body) {
    Map<String, String> params = new TreeMap<>();
    params.put("MessageSid", "SM" + String.format("%032d", sid));
    params.put("SmsSid", params.get("MessageSid"));
    params.put("AccountSid", "AC" + "0".repeat(32));
    params.put("From", from);
    params.put("To", "+15550100001");
    params.put("Body", body);
    params.put("NumMedia", "0");
    StringBuilder signed = new StringBuilder(url);
    params.forEach((k, v) -> signed.append(k).append(v));
    String signature;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(TWILIO_TOKEN.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      signature =
          Base64.getEncoder()
              .encodeToString(mac.doFinal(signed.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String form =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return new Signed(form, signature);
  }

  /** The same webhook as a JDK client request. */
  static HttpRequest request(String base, String path, long sid, String from, String body) {
    Signed signed = signed(base + path, sid, from, body);
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signed.signature())
        .POST(HttpRequest.BodyPublishers.ofString(signed.form()))
        .build();
  }

  /**
   * A campaign of 3,000 at 200 a second; every second a STOP for the number about to be reached.
   * Afterwards, from the sandbox's log: the last campaign call to each such number, against the
   * STOP's 200.
   */
  static void stopToSilence(EngineProcess engine, HttpClient http, String engineUrl)
      throws Exception {
    String admin = engine.token("bench", "admin");
    engine.send(
        "PATCH",
        "/v1/tenant",
        admin,
        "application/json",
        HttpRequest.BodyPublishers.ofString(
            "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\"short_code\",\"mps\":200}]}"));
    // Legal hours are the recipients' (8:00-21:00 local): numbers of a zone where it is day now.
    String area = areaInDaytime(Instant.now());
    if (area == null) {
      System.out.println();
      System.out.println(
          "STOP-to-silence: skipped, no US zone of the list is inside legal hours now");
      return;
    }
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    List<String> phones = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      String p = "+1" + area + (300 + i / 10_000) + String.format("%04d", i % 10_000);
      phones.add(p);
      csv.append("R").append(i).append(',').append(p).append('\n');
    }
    var imported =
        engine.send(
            "POST",
            "/v1/imports",
            admin,
            "text/csv",
            HttpRequest.BodyPublishers.ofString(csv.toString()));
    String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
    engine.awaitImport(importId, admin);
    String id =
        EngineProcess.JSON
            .readTree(
                engine
                    .send(
                        "POST",
                        "/v1/campaigns",
                        admin,
                        "application/json",
                        HttpRequest.BodyPublishers.ofString(
                            "{\"name\":\"silence\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                                + importId
                                + "\"},\"message\":\"Hi {{first_name}}\"}"))
                    .body())
            .get("id")
            .asText();
    engine.send(
        "POST",
        "/v1/campaigns/" + id + "/launch",
        admin,
        null,
        HttpRequest.BodyPublishers.noBody());
    Map<String, Instant> answeredAt = new java.util.LinkedHashMap<>();
    long sid = 9_000_000;
    String viewer = engine.token("bench", "viewer");
    while (!engine
        .getJson("/v1/campaigns/" + id, admin)
        .get("state")
        .asText()
        .equals("completed")) {
      int sent = engine.getJson("/sandbox/log?tenant=bench", viewer).size();
      int next = Math.min(phones.size() - 1, sent + 2);
      String phone = phones.get(next);
      if (sent > 100 && !answeredAt.containsKey(phone) && answeredAt.size() < 10) {
        HttpResponse<Void> r =
            http.send(
                request(engineUrl, "/webhooks/twilio/bench/sms", sid++, phone, "STOP"),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          answeredAt.put(phone, Instant.now());
        }
      }
      Thread.sleep(1000);
    }
    Map<String, Instant> lastCall = new java.util.HashMap<>();
    for (JsonNode e : engine.getJson("/sandbox/log?tenant=bench", viewer)) {
      String to = e.get("to").asText();
      if (answeredAt.containsKey(to) && e.get("body").asText().startsWith("Hi ")) {
        lastCall.merge(to, Instant.parse(e.get("at").asText()), (a, b) -> a.isAfter(b) ? a : b);
      }
    }
    System.out.println();
    System.out.printf(
        "STOP-to-silence: %d STOPs, each for the number the running campaign (200/s) was about to reach:%n",
        answeredAt.size());
    long after = 0;
    for (Map.Entry<String, Instant> e : answeredAt.entrySet()) {
      Instant last = lastCall.get(e.getKey());
      if (last == null) {
        System.out.printf(
            "  %s  no campaign call to it at all (the STOP came first)%n", e.getKey());
      } else {
        long ms = Duration.between(last, e.getValue()).toMillis();
        after += ms < 0 ? 1 : 0;
        System.out.printf(
            "  %s  last campaign call %d ms %s the STOP's 200%n",
            e.getKey(), Math.abs(ms), ms >= 0 ? "before" : "AFTER");
      }
    }
    System.out.printf("  calls after a STOP's 200: %d (must be 0)%n", after);
  }

  /**
   * Area codes of one zone each, east to west; Guam (NANP, a US territory, UTC+10) has legal hours
   * while it is night in the 50 states, so the run does not depend on the time of day.
   */
  private static final List<Map.Entry<String, String>> AREAS =
      List.of(
          Map.entry("646", "America/New_York"),
          Map.entry("312", "America/Chicago"),
          Map.entry("303", "America/Denver"),
          Map.entry("415", "America/Los_Angeles"),
          Map.entry("907", "America/Anchorage"),
          Map.entry("808", "Pacific/Honolulu"),
          Map.entry("671", "Pacific/Guam"));

  /**
   * An area code whose local time is between 9:00 and 19:00 at {@code now} (room for a long run),
   * or null.
   */
  static String areaInDaytime(Instant now) {
    for (Map.Entry<String, String> e : AREAS) {
      int hour = now.atZone(java.time.ZoneId.of(e.getValue())).getHour();
      if (hour >= 9 && hour < 19) {
        return e.getKey();
      }
    }
    return null;
  }

  private static void awaitUp(HttpClient http, String url) throws Exception {
    for (int i = 0; i < 300; i++) {
      try {
        http.send(
            HttpRequest.newBuilder(URI.create(url + "/"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.discarding());
        return;
      } catch (java.io.IOException e) {
        Thread.sleep(200);
      }
    }
    throw new IllegalStateException("the trivial server did not start");
  }
}
