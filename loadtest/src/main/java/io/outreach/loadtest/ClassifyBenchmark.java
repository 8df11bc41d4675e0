package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.HdrHistogram.Histogram;

/**
 * Gianna under inbound load: signed reply webhooks at a fixed rate (open loop; each stored before
 * its 2xx, as every inbound message is), classified by the Anthropic twin through the real adapter
 * (the tenant's key is the twin's test key). Afterwards, from every conversation's thread: the
 * classification lag of each reply (from its receipt to Gianna's decision) as p50/p99/max, the
 * classification throughput, and the backlog at its largest (replies received and not yet decided):
 * the queue is the replies' rows, and Gianna holds at most {@code outreach.gianna.passes-in-flight}
 * batches of them in memory.
 */
final class ClassifyBenchmark {
  /** The sandbox's Anthropic test key; set as the tenant's own key the adapter calls the twin. */
  private static final String TWIN_KEY = "sandbox-anthropic-api-key";

  /** The people who write back, as {@link InboundBenchmark} numbers them. */
  private static final int PEOPLE = 2_000;

  private ClassifyBenchmark() {}

  static void run(Options o) throws Exception {
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    int rate = Integer.parseInt(o.get("rate", "1000"));
    int seconds = Integer.parseInt(o.get("seconds", "15"));
    String heap = o.get("heap", "256m");
    try (EngineProcess engine = EngineProcess.start(jar, heap)) {
      String platform = engine.token("platform", "platform");
      engine.createTenant(platform, "bench", "Bench", "UTC");
      String admin = engine.token("bench", "admin");
      check(
          engine.send(
              "PATCH",
              "/v1/tenant",
              admin,
              "application/json",
              HttpRequest.BodyPublishers.ofString(
                  "{\"programName\":\"Bench\",\"agentPolicies\":{\"gianna\":{\"enabled\":true,"
                      + "\"humanReview\":true}}}")));
      check(
          engine.send(
              "PUT",
              "/v1/tenant/providers/anthropic",
              admin,
              "application/json",
              HttpRequest.BodyPublishers.ofString("{\"apiKey\":\"" + TWIN_KEY + "\"}")));
      LoadClient client = new LoadClient("127.0.0.1", engine.port, 256);
      String path = "/webhooks/twilio/bench/sms";

      System.out.println("warm-up: 20 s at 200 replies/s");
      Instant warmUp = Instant.now();
      InboundBenchmark.openLoop(client, path, 200, 20, 0);
      String viewer = engine.token("bench", "viewer");
      awaitDecided(engine, viewer, 0, 200 * 20, warmUp, Duration.ofMinutes(5));
      Instant start = Instant.now();
      InboundBenchmark.Result r = InboundBenchmark.openLoop(client, path, rate, seconds, 1_000_000);
      client.close();
      System.out.println();
      System.out.printf(
          "replies (signed Twilio webhooks, stored before 2xx), open loop %d/s for %d s:%n",
          rate, seconds);
      System.out.printf(
          "  achieved %.0f req/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, non-2xx %d%n",
          r.achieved(), r.p50(), r.p99(), r.max(), r.failed());
      Instant drainedBy =
          awaitDecided(engine, viewer, 1_000_000, rate * seconds, start, Duration.ofMinutes(30));
      List<long[]> spans = spans(engine, viewer, start);
      report(spans, Duration.between(start, drainedBy));
      System.out.println(engine.gcLine(heap));
    }
  }

  private static void check(java.net.http.HttpResponse<String> r) {
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException(r.statusCode() + " " + r.body());
    }
  }

  /**
   * Waits until the {@code count} replies from {@code firstSid} on are all decided (and no reply
   * waits for Gianna); answers when, to within a second. Gianna takes the oldest replies first, so
   * until the newest 16 are on their threads and decided only those threads are read: reading all
   * 2,000 every second made about as many requests to the engine as there were model calls, on the
   * two cores the figures are about.
   */
  private static Instant awaitDecided(
      EngineProcess engine, String token, long firstSid, int count, Instant since, Duration atMost)
      throws Exception {
    List<Long> newest = new ArrayList<>();
    for (long sid = firstSid + count - 16; sid < firstSid + count; sid++) {
      newest.add(sid);
    }
    List<Integer> people = newest.stream().map(sid -> (int) (sid % PEOPLE)).toList();
    Instant deadline = Instant.now().plus(atMost);
    while (Instant.now().isBefore(deadline)) {
      if (decided(threads(engine, token, people), newest)) {
        List<JsonNode> all = threads(engine, token);
        if (all.stream().noneMatch(ClassifyBenchmark::waiting)
            && decidedSince(all, since) >= count) {
          return Instant.now();
        }
      }
      Thread.sleep(1_000);
    }
    throw new IllegalStateException("replies still wait for Gianna after " + atMost);
  }

  /** Whether the replies {@code sids} ("thanks <sid>") are on these threads, decided. */
  private static boolean decided(List<JsonNode> threads, List<Long> sids) {
    for (long sid : sids) {
      String body = "thanks " + sid;
      boolean found = false;
      for (JsonNode t : threads) {
        for (JsonNode m : t.path("messages")) {
          if (m.path("body").asText().equals(body)) {
            JsonNode c = m.path("classification");
            found = !c.isMissingNode() && !c.isNull() && !pending(m);
          }
        }
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }

  /** How many inbound messages received since {@code since} are decided. */
  private static long decidedSince(List<JsonNode> threads, Instant since) {
    long n = 0;
    for (JsonNode t : threads) {
      for (JsonNode m : t.path("messages")) {
        JsonNode c = m.path("classification");
        if (!c.isMissingNode()
            && !c.isNull()
            && !c.path("classifiedAt").isNull()
            && !Instant.parse(m.get("at").asText()).isBefore(since)) {
          n++;
        }
      }
    }
    return n;
  }

  /** Whether a reply on this thread waits for Gianna. */
  private static boolean waiting(JsonNode thread) {
    for (JsonNode m : thread.path("messages")) {
      if (pending(m)) {
        return true;
      }
    }
    return false;
  }

  private static boolean pending(JsonNode message) {
    return message.at("/classification/state").asText().equals("pending");
  }

  /** Every person's conversation, read 16 at a time. */
  private static List<JsonNode> threads(EngineProcess engine, String token) throws Exception {
    List<Integer> everyone = new ArrayList<>();
    for (int i = 0; i < PEOPLE; i++) {
      everyone.add(i);
    }
    return threads(engine, token, everyone);
  }

  /** The conversations of {@code people} (by number), read 16 at a time. */
  private static List<JsonNode> threads(EngineProcess engine, String token, List<Integer> people)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<JsonNode>> calls = new ArrayList<>();
      for (int i : people) {
        String phone = "%2B12126" + String.format("%06d", i);
        calls.add(pool.submit(() -> engine.getJson("/v1/conversations/" + phone, token)));
      }
      List<JsonNode> out = new ArrayList<>();
      for (Future<JsonNode> f : calls) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdown();
    }
  }

  /** Each reply received since {@code since}: its receipt and its decision, in epoch millis. */
  private static List<long[]> spans(EngineProcess engine, String token, Instant since)
      throws Exception {
    List<long[]> spans = new ArrayList<>();
    Map<String, Long> classifiers = new TreeMap<>();
    for (JsonNode t : threads(engine, token)) {
      for (JsonNode m : t.path("messages")) {
        JsonNode c = m.path("classification");
        if (c.isMissingNode() || c.isNull() || c.path("classifiedAt").isNull()) {
          continue;
        }
        Instant at = Instant.parse(m.get("at").asText());
        if (at.isBefore(since)) {
          continue;
        }
        spans.add(
            new long[] {
              at.toEpochMilli(), Instant.parse(c.get("classifiedAt").asText()).toEpochMilli()
            });
        classifiers.merge(
            c.path("classifier").asText("?") + "/" + c.path("category").asText("-"), 1L, Long::sum);
      }
    }
    System.out.println("  decided, by classifier/category: " + classifiers);
    return spans;
  }

  private static void report(List<long[]> spans, Duration drain) {
    Histogram lag = new Histogram(3);
    List<long[]> events = new ArrayList<>();
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (long[] s : spans) {
      lag.recordValue(Math.max(0, s[1] - s[0]));
      events.add(new long[] {s[0], 1});
      events.add(new long[] {s[1], -1});
      first = Math.min(first, s[0]);
      last = Math.max(last, s[1]);
    }
    events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    long backlog = 0;
    long most = 0;
    for (long[] e : events) {
      backlog += e[1];
      most = Math.max(most, backlog);
    }
    System.out.printf(
        "classification (Anthropic twin through the SDK adapter): %d replies decided in %.1f s"
            + " (%.0f/s); all decided %.1f s after the load began%n",
        spans.size(),
        (last - first) / 1000.0,
        spans.size() / Math.max(0.001, (last - first) / 1000.0),
        drain.toMillis() / 1000.0);
    System.out.printf(
        "  lag from receipt to decision: p50 %d ms, p99 %d ms, max %d ms; largest backlog %d"
            + " replies (rows in PostgreSQL; Gianna holds at most passes-in-flight batches in"
            + " memory)%n",
        lag.getValueAtPercentile(50), lag.getValueAtPercentile(99), lag.getMaxValue(), most);
  }
}
