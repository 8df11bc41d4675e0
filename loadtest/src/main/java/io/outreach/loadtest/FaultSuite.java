package io.outreach.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fault suite: the engine, its PostgreSQL (the engine's {@code database} command) and the
 * standalone sandbox as processes of their own; for each fault a campaign of its own, shaped like a
 * user's list (people on the tenant's do-not-contact list, people who opted out by text, rows
 * repeated and rows without a valid phone) under inbound load (signed replies through the twin at a
 * steady rate, from other people), the fault injected once the campaign is under way, and after it
 * a ledger check that compares four accounts of the same campaign:
 *
 * <ul>
 *   <li>the client's: what the suite put in (eligible, on DNC, opted out) and what the engine
 *       answered it (replies taken with a 2xx);
 *   <li>the journal's: the campaign's counts ({@code GET /v1/campaigns/{id}}: the campaign entity,
 *       recovered from the journal after every restart);
 *   <li>the read models': the campaign's {@code messages} rows, its spend bucket and the stored
 *       webhooks, read in PostgreSQL;
 *   <li>the twin's: the messages it accepted ({@code GET /sandbox/log}), one per idempotency key.
 * </ul>
 *
 * <p>A row is clean when nothing is lost (every eligible person was sent to, or failed or was
 * stopped by the budget in the engine's own account; every reply taken was stored), nothing is
 * duplicated (no person got two messages with different idempotency keys), no ineligible person was
 * contacted, every accepted message ended {@code delivered} (statuses never went back, receipts out
 * of order or replayed included), the four accounts agree, and the campaign spent at most its
 * budget, paid once per accepted message. The read models are eventually consistent: the check is
 * repeated for a while ({@code --settle}, 30 s) after the campaign completed and the twin posted
 * every receipt.
 *
 * <p>Legal hours are widened to the whole day (they are not this suite's subject, and a campaign
 * must finish to be checked); frequency caps would defer a number repeated across campaigns by a
 * day, so each campaign has people of its own.
 */
public final class FaultSuite {
  private FaultSuite() {}

  private static final String TENANT = "faults";
  private static final String SENDER = "+15550100001";

  /**
   * What the sandbox twin charges for one SMS segment (the engine's price table), micro-dollars.
   */
  private static final long SEGMENT_MICROS = 8_300;

  /**
   * The statuses of a message the provider accepted: {@code queued} is Twilio's first (a message
   * whose receipts were all given up while the engine was down stays there).
   */
  private static final Set<String> ACCEPTED = Set.of("queued", "sent", "delivered", "undelivered");

  /** The faults, by their command-line names, in the order the suite runs them. */
  public enum Fault {
    KILL("kill", "SIGKILL of the engine"),
    DATABASE("database", "PostgreSQL stopped"),
    SIGSTOP("sigstop", "SIGSTOP of the engine"),
    RATE_LIMIT("429", "provider 429 storm"),
    SERVER_ERROR("5xx", "provider 5xx (half)"),
    TIMEOUT("timeout", "provider 15 s timeouts"),
    REORDER("reorder", "receipts out of order"),
    REPLAY("replay", "receipts, replies replayed");

    final String name;
    final String title;

    Fault(String name, String title) {
      this.name = name;
      this.title = title;
    }

    static Fault named(String name) {
      for (Fault f : values()) {
        if (f.name.equals(name.trim())) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown fault "
              + name
              + "; known: "
              + Arrays.stream(values()).map(f -> f.name).toList());
    }
  }

  /**
   * How the suite runs.
   *
   * @param recipients eligible people in each fault's campaign
   * @param mps the tenant's sender rate, which sets how long a campaign runs
   * @param kills how many times the {@code kill} fault kills the engine, at random points
   * @param databaseDown how long PostgreSQL stays stopped
   * @param stopped how long the engine stays SIGSTOPped
   * @param storm how long a provider fault (429, 5xx, timeouts) lasts
   * @param repliesPerSecond the inbound load
   * @param settle how long the ledger check waits for the read models to agree
   * @param patience how long a campaign may take to complete (and to send again after a fault)
   *     before the run fails, saying what the campaign and the engine's log show
   */
  public record Plan(
      Path jar,
      List<Fault> faults,
      int recipients,
      int mps,
      int kills,
      Duration databaseDown,
      Duration stopped,
      Duration storm,
      int repliesPerSecond,
      Duration settle,
      Duration patience,
      String heap,
      long seed) {

    /** The plan of {@code java -jar outreach-loadtest.jar faults [--option value]...}. */
    static Plan of(Options o) {
      boolean quick = o.get("quick", "false").equals("true");
      Plan d = quick ? quick(Path.of("http/target/outreach-engine.jar")) : full();
      String faults = o.get("faults", "");
      return new Plan(
          Path.of(o.get("engine-jar", d.jar.toString())),
          faults.isEmpty() ? d.faults : Arrays.stream(faults.split(",")).map(Fault::named).toList(),
          (int) o.getLong("recipients", d.recipients),
          (int) o.getLong("mps", d.mps),
          (int) o.getLong("kills", d.kills),
          Duration.ofSeconds(o.getLong("database-down", d.databaseDown.toSeconds())),
          Duration.ofSeconds(o.getLong("stopped", d.stopped.toSeconds())),
          Duration.ofSeconds(o.getLong("storm", d.storm.toSeconds())),
          (int) o.getLong("replies", d.repliesPerSecond),
          Duration.ofSeconds(o.getLong("settle", d.settle.toSeconds())),
          Duration.ofSeconds(o.getLong("patience", d.patience.toSeconds())),
          o.get("heap", d.heap),
          o.getLong("seed", System.nanoTime()));
    }

    /** Every fault at the issue's sizes: 20 s without PostgreSQL, 30 s stopped, three kills. */
    static Plan full() {
      return new Plan(
          Path.of("http/target/outreach-engine.jar"),
          List.of(Fault.values()),
          2_000,
          50,
          3,
          Duration.ofSeconds(20),
          Duration.ofSeconds(30),
          Duration.ofSeconds(15),
          5,
          Duration.ofSeconds(30),
          Duration.ofMinutes(15),
          "256m",
          System.nanoTime());
    }

    /**
     * The short version {@code mvn verify} runs: small campaigns, one kill, short outages; the
     * faults whose defects cost most (a crash, the database, a provider refusing) and none that
     * only waits out a timer. Receipts replayed and out of order are the full suite's (and {@code
     * SandboxReceiptsIT}, {@code WebhookIT} check each mechanism in the build).
     */
    public static Plan quick(Path jar) {
      return new Plan(
          jar,
          List.of(Fault.KILL, Fault.DATABASE, Fault.SERVER_ERROR),
          120,
          30,
          1,
          Duration.ofSeconds(8),
          Duration.ofSeconds(8),
          Duration.ofSeconds(3),
          4,
          Duration.ofSeconds(10),
          Duration.ofMinutes(3),
          "256m",
          System.nanoTime());
    }
  }

  /**
   * What one fault left behind.
   *
   * @param sendsBefore messages the twin accepted before the fault was injected
   * @param sendsAfter messages it accepted from then on
   * @param failed people the engine gave up on (its own account says so: not lost)
   * @param budgetBlocked people the budget stopped
   * @param lost eligible people neither sent to, nor failed, nor stopped by the budget; and replies
   *     the engine took with a 2xx but did not store
   * @param duplicated people sent two messages (different idempotency keys)
   * @param ineligible people on DNC or opted out who were sent to
   * @param regressed accepted messages whose stored status is not {@code delivered} once every
   *     receipt was posted or given up
   * @param receiptsGivenUp receipts the twin gave up after Twilio's retries (the engine answered
   *     none of its attempts with a 2xx: it was down, stopped or without its database); each may
   *     leave one message short of {@code delivered}, which is no regression
   * @param disagreements comparisons of the four accounts that differ (named in {@code notes})
   * @param overrunMicros spent beyond the campaign's budget
   * @param retriesDeduplicated provider calls the twin answered as repeats of an idempotency key
   * @param repliesTaken replies the engine answered with a 2xx
   * @param recovery from the fault's end to the next message at the twin (the longest, for several
   *     kills); null when the campaign had finished
   * @param during what the API answered while the fault lasted, where the suite asked
   */
  public record Row(
      Fault fault,
      long sendsBefore,
      long sendsAfter,
      long failed,
      long budgetBlocked,
      long lost,
      long duplicated,
      long ineligible,
      long regressed,
      long receiptsGivenUp,
      long disagreements,
      long overrunMicros,
      long retriesDeduplicated,
      long repliesTaken,
      Duration recovery,
      String during,
      List<String> notes) {

    public boolean clean() {
      return lost == 0
          && duplicated == 0
          && ineligible == 0
          && regressed <= receiptsGivenUp
          && disagreements == 0
          && overrunMicros == 0;
    }
  }

  static void main(Options o) throws Exception {
    Plan plan = Plan.of(o);
    List<Row> rows = run(plan);
    if (!rows.stream().allMatch(Row::clean)) {
      System.exit(1);
    }
  }

  /** Runs {@code plan}, prints its table, and answers its rows. */
  public static List<Row> run(Plan plan) throws Exception {
    System.out.printf(
        "fault suite: %s; %,d people a campaign at %d mps, %d replies/s, seed %d%n",
        plan.faults.stream().map(f -> f.name).toList(),
        plan.recipients,
        plan.mps,
        plan.repliesPerSecond,
        plan.seed);
    List<Row> rows = new ArrayList<>();
    try (Rig rig = Rig.start(plan)) {
      Random random = new Random(plan.seed);
      int index = 0;
      for (Fault fault : plan.faults) {
        rows.add(new Trial(rig, plan, fault, index++, random).run());
        System.out.println(rows.get(rows.size() - 1));
      }
      System.out.println(table(rows));
      System.out.println("logs: " + rig.dir);
    }
    return rows;
  }

  /** The table of {@code rows}, one line each. */
  public static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    String format = "%-28s %7s %7s %6s %6s %5s %5s %5s %5s %6s %5s %7s %7s %8s %9s  %s%n";
    b.append(
        String.format(
            format,
            "fault",
            "before",
            "after",
            "failed",
            "budget",
            "lost",
            "dup",
            "inelg",
            "regr",
            "rcptGU",
            "diff",
            "overrun",
            "deduped",
            "replies",
            "recovery",
            "during the fault"));
    for (Row r : rows) {
      b.append(
          String.format(
              format,
              r.fault.title,
              r.sendsBefore,
              r.sendsAfter,
              r.failed,
              r.budgetBlocked,
              r.lost,
              r.duplicated,
              r.ineligible,
              r.regressed,
              r.receiptsGivenUp,
              r.disagreements,
              r.overrunMicros == 0 ? "0" : String.format("$%.4f", r.overrunMicros / 1e6),
              r.retriesDeduplicated,
              r.repliesTaken,
              r.recovery == null ? "-" : String.format("%.1f s", r.recovery.toMillis() / 1000.0),
              r.during == null ? "" : r.during));
      for (String note : r.notes) {
        b.append("    ").append(note).append('\n');
      }
    }
    return b.toString();
  }

  /** The processes, the tenant, the twin's log as it grows, and the inbound load. */
  static final class Rig implements AutoCloseable {
    final Plan plan;
    final Path dir;
    final int dbPort = EngineProcess.freePort();
    final int sandboxPort = EngineProcess.freePort();
    final int enginePort = EngineProcess.freePort();
    final Map<String, String> env = new HashMap<>();
    final HttpClient http = HttpClient.newHttpClient();
    Process database;
    Process sandbox;
    volatile EngineProcess engine;
    String platform;
    String operator;
    private int databaseStarts;

    /** Outbound entries of the twin's log, in order. */
    final List<JsonNode> twin = new CopyOnWriteArrayList<>();

    /**
     * Replies posted through the twin, in the order their outcomes came: what the engine answered
     * (0: nothing in time) and, when the twin replayed the reply, what it answered the replay.
     */
    final List<Reply> replies = new CopyOnWriteArrayList<>();

    record Reply(String messageId, int status, Integer replayStatus) {}

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    private Rig(Plan plan) throws Exception {
      this.plan = plan;
      this.dir = Files.createTempDirectory("outreach-faults-");
    }

    static Rig start(Plan plan) throws Exception {
      Rig rig = new Rig(plan);
      try {
        rig.startDatabase();
        rig.sandbox =
            EngineProcess.startSandbox(
                plan.jar,
                rig.dir.resolve("sandbox.log"),
                rig.sandboxPort,
                "http://127.0.0.1:" + rig.enginePort);
        CampaignBenchmark.awaitUp("http://127.0.0.1:" + rig.sandboxPort + "/sandbox/stats");
        rig.env.put("OUTREACH_DB_URL", "jdbc:postgresql://localhost:" + rig.dbPort + "/outreach");
        rig.env.put("OUTREACH_DB_USER", "outreach_app");
        rig.env.put("OUTREACH_DB_OWNER_USER", "outreach_owner");
        rig.env.put("OUTREACH_SANDBOX_URL", "http://127.0.0.1:" + rig.sandboxPort);
        rig.env.put("OUTREACH_SANDBOX_SERVE", "off");
        rig.env.put("OUTREACH_PUBLIC_URL", "http://127.0.0.1:" + rig.enginePort);
        rig.env.put(
            "JAVA_TOOL_OPTIONS",
            "-Doutreach.compliance.federal-hours.start=00:00"
                + " -Doutreach.compliance.federal-hours.end=23:59:59.999999999");
        rig.startEngine();
        rig.tenant();
        rig.follow("twin-log", rig::pollTwin, 250);
        if (plan.repliesPerSecond > 0) {
          rig.follow("replies", rig::reply, 1000 / plan.repliesPerSecond);
        }
        return rig;
      } catch (Exception e) {
        rig.close();
        throw e;
      }
    }

    void startDatabase() throws Exception {
      database =
          EngineProcess.startDatabase(
              plan.jar,
              dir.resolve("db"),
              dbPort,
              dir.resolve("database-" + ++databaseStarts + ".log"));
    }

    /** Stops PostgreSQL as its process is stopped (SIGTERM: a fast shutdown, clients cut). */
    void stopDatabase() throws InterruptedException {
      database.destroy();
      if (!database.waitFor(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the database process did not stop");
      }
    }

    void startEngine() throws Exception {
      engine = EngineProcess.start(plan.jar, plan.heap, env, enginePort);
    }

    private void tenant() throws Exception {
      platform = engine.token("platform", "platform");
      engine.createTenant(platform, TENANT, "Fault suite", "UTC");
      expect(
          engine.send(
              "PATCH",
              "/v1/tenant",
              engine.token(TENANT, "admin"),
              "application/json",
              HttpRequest.BodyPublishers.ofString(
                  "{\"senders\":[{\"provider\":\"twilio\",\"from\":\""
                      + SENDER
                      + "\",\"kind\":\"long_code\",\"mps\":"
                      + plan.mps
                      + "}]}")),
          200);
      operator = engine.token(TENANT, "operator");
    }

    /** Runs {@code step} every {@code everyMillis} on a thread of its own until closed. */
    private void follow(String name, Step step, long everyMillis) {
      Thread t =
          new Thread(
              () -> {
                long next = System.nanoTime();
                while (running.get()) {
                  try {
                    step.run();
                  } catch (Exception e) {
                    // The engine or the twin is down now and then: that is the point.
                  }
                  next += TimeUnit.MILLISECONDS.toNanos(everyMillis);
                  long wait = next - System.nanoTime();
                  if (wait > 0) {
                    try {
                      TimeUnit.NANOSECONDS.sleep(wait);
                    } catch (InterruptedException e) {
                      return;
                    }
                  } else {
                    next = System.nanoTime();
                  }
                }
              },
              name);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }

    private interface Step {
      void run() throws Exception;
    }

    private long twinSince;

    private void pollTwin() throws Exception {
      while (true) {
        JsonNode page =
            EngineProcess.JSON.readTree(
                sandbox(
                        "GET",
                        "/sandbox/log?tenant=" + TENANT + "&since=" + twinSince,
                        null,
                        Duration.ofSeconds(10))
                    .body());
        for (JsonNode e : page) {
          twinSince = Math.max(twinSince, e.get("id").asLong());
          if (e.get("direction").asText().equals("outbound")) {
            twin.add(e);
          }
        }
        if (page.size() < 10_000) {
          return;
        }
      }
    }

    private long replyNo;

    /** One reply from someone who is in no campaign, posted by the twin as Twilio would. */
    private void reply() throws Exception {
      long n = 6_000_000 + replyNo++;
      String from = "+1646" + (n / 10_000) + String.format("%04d", n % 10_000);
      sandboxAsync(
          "/sandbox/replies",
          "{\"tenant\":\""
              + TENANT
              + "\",\"from\":\""
              + from
              + "\",\"to\":\""
              + SENDER
              + "\",\"body\":\"Who is this? ("
              + n
              + ")\"}");
    }

    private void sandboxAsync(String path, String body) {
      http.sendAsync(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sandboxPort + path))
                  .timeout(Duration.ofSeconds(60))
                  .header("Authorization", "Bearer " + operator)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .thenAccept(
              r -> {
                try {
                  JsonNode outcome = EngineProcess.JSON.readTree(r.body());
                  JsonNode status = outcome.path("status");
                  JsonNode replay = outcome.path("replayStatus");
                  replies.add(
                      new Reply(
                          outcome.get("messageId").asText(),
                          status.isInt() ? status.asInt() : 0,
                          replay.isInt() ? replay.asInt() : null));
                } catch (Exception e) {
                  // Not an outcome: the twin itself failed; nothing was posted.
                }
              });
    }

    HttpResponse<String> sandbox(String method, String path, String body, Duration timeout)
        throws Exception {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sandboxPort + path))
              .timeout(timeout)
              .header("Authorization", "Bearer " + platform);
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      return http.send(
          b.method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }

    /** Receipts the twin gave up after its provider's retries (the engine answered no 2xx). */
    long receiptsGivenUp() throws Exception {
      return EngineProcess.JSON
          .readTree(sandbox("GET", "/sandbox/stats", null, Duration.ofSeconds(10)).body())
          .at("/receipts/givenUp")
          .asLong();
    }

    void faults(String json) throws Exception {
      expect(sandbox("PUT", "/sandbox/faults", json, Duration.ofSeconds(10)), 200);
    }

    /** The twin's outbound entries whose body carries {@code marker}. */
    List<JsonNode> sent(String marker) {
      return twin.stream().filter(e -> e.get("body").asText().contains(marker)).toList();
    }

    /** Accepted messages (a repeated idempotency key is no new message) carrying {@code marker}. */
    long accepted(String marker) {
      return sent(marker).stream().filter(e -> !e.get("duplicate").asBoolean()).count();
    }

    Connection sql() throws SQLException {
      return DriverManager.getConnection(
          "jdbc:postgresql://localhost:" + dbPort + "/outreach", "postgres", "");
    }

    @Override
    public void close() {
      running.set(false);
      threads.forEach(Thread::interrupt);
      if (engine != null) {
        engine.close();
      }
      if (sandbox != null) {
        sandbox.destroy();
      }
      if (database != null) {
        database.destroy();
        try {
          database.waitFor(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** One fault: its campaign, the injection, and the ledger check after it. */
  private static final class Trial {
    final Rig rig;
    final Plan plan;
    final Fault fault;
    final Random random;
    final String marker;
    final List<String> eligible = new ArrayList<>();
    final List<String> dnc = new ArrayList<>();
    final List<String> optedOut = new ArrayList<>();
    String campaign;
    int firstReply;
    long givenUpBefore;
    long budgetMicros;
    long sendsBefore;
    Duration recovery;
    String during;

    Trial(Rig rig, Plan plan, Fault fault, int index, Random random) {
      this.rig = rig;
      this.plan = plan;
      this.fault = fault;
      this.random = random;
      this.marker = "[f" + index + "]";
      long base = 4_000_000 + index * 100_000L;
      for (int i = 0; i < plan.recipients; i++) {
        eligible.add(phone(base + i));
      }
      for (int i = 0; i < 5; i++) {
        dnc.add(phone(base + 90_000 + i));
        optedOut.add(phone(base + 95_000 + i));
      }
    }

    private static String phone(long n) {
      return "+1212" + (n / 10_000) + String.format("%04d", n % 10_000);
    }

    Row run() throws Exception {
      System.out.printf("%n== %s ==%n", fault.title);
      prepare();
      launch();
      inject();
      awaitCompleted();
      return check();
    }

    /** Its DNC entries, its opt-outs (STOP by text) and its list, imported. */
    private void prepare() throws Exception {
      EngineProcess e = rig.engine;
      expect(
          e.send(
              "POST",
              "/v1/dnc",
              rig.operator,
              "application/json",
              HttpRequest.BodyPublishers.ofString(
                  "{\"phones\":"
                      + EngineProcess.JSON.writeValueAsString(dnc)
                      + ",\"reason\":\"fault suite\"}")),
          200);
      for (String p : optedOut) {
        HttpResponse<String> stop =
            rig.sandbox(
                "POST",
                "/sandbox/replies",
                "{\"tenant\":\""
                    + TENANT
                    + "\",\"from\":\""
                    + p
                    + "\",\"to\":\""
                    + SENDER
                    + "\",\"body\":\"STOP\"}",
                Duration.ofSeconds(30));
        expect(stop, 200);
      }
      List<String> rows = new ArrayList<>();
      for (int i = 0; i < eligible.size(); i++) {
        rows.add("R" + i + "," + eligible.get(i));
      }
      dnc.forEach(p -> rows.add("D," + p));
      optedOut.forEach(p -> rows.add("O," + p));
      for (int i = 0; i < 10; i++) {
        rows.add("Again," + eligible.get(random.nextInt(eligible.size())));
      }
      rows.add("Bad,12345");
      rows.add("Bad,not a phone");
      rows.add("Bad,");
      Collections.shuffle(rows, random);
      String csv = "first_name,phone\n" + String.join("\n", rows) + "\n";
      HttpResponse<String> imported =
          e.send(
              "POST",
              "/v1/imports",
              rig.operator,
              "text/csv",
              HttpRequest.BodyPublishers.ofString(csv));
      expect(imported, 202);
      String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
      JsonNode done = e.awaitImport(importId, rig.operator);
      long people = eligible.size() + dnc.size() + optedOut.size();
      if (done.get("accepted").asLong() != people) {
        throw new IllegalStateException("import took " + done + ", expected " + people + " people");
      }
      // A budget a few messages short of everyone: the budget binds while the fault strikes.
      budgetMicros = (eligible.size() - 3) * SEGMENT_MICROS;
      HttpResponse<String> created =
          e.send(
              "POST",
              "/v1/campaigns",
              rig.operator,
              "application/json",
              HttpRequest.BodyPublishers.ofString(
                  "{\"name\":\"fault "
                      + fault.name
                      + "\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                      + importId
                      + "\"},\"message\":\"Hi {{first_name}}, an update "
                      + marker
                      + "\",\"budgetCents\":"
                      + budgetMicros / 10_000
                      + "}"));
      expect(created, 201);
      campaign = EngineProcess.JSON.readTree(created.body()).get("id").asText();
      budgetMicros = budgetMicros / 10_000 * 10_000;
    }

    private void launch() throws Exception {
      firstReply = rig.replies.size();
      givenUpBefore = rig.receiptsGivenUp();
      expect(
          rig.engine.send(
              "POST",
              "/v1/campaigns/" + campaign + "/launch",
              rig.operator,
              null,
              HttpRequest.BodyPublishers.noBody()),
          202);
    }

    /** Waits until the twin accepted {@code share} of the campaign's people. */
    private void awaitShare(double share) throws Exception {
      long target = Math.max(1, (long) (share * eligible.size()));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (rig.accepted(marker) < target) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              fault.name
                  + ": "
                  + rig.accepted(marker)
                  + " sent after 5 minutes, waited for "
                  + target);
        }
        Thread.sleep(50);
      }
    }

    private double between(double from, double to) {
      return from + random.nextDouble() * (to - from);
    }

    private void inject() throws Exception {
      switch (fault) {
        case KILL -> {
          double[] at = new double[plan.kills];
          for (int i = 0; i < at.length; i++) {
            at[i] = between(0.1, 0.7);
          }
          Arrays.sort(at);
          for (int i = 0; i < at.length; i++) {
            awaitShare(at[i]);
            if (i == 0) {
              sendsBefore = rig.accepted(marker);
            }
            rig.engine.kill();
            Instant killed = Instant.now();
            System.out.printf("SIGKILL %d at %,d sent%n", i + 1, rig.accepted(marker));
            Thread.sleep((long) between(0, 2_000));
            rig.startEngine();
            longest(resumedAfter(killed));
          }
        }
        case DATABASE -> {
          awaitShare(between(0.2, 0.5));
          sendsBefore = rig.accepted(marker);
          rig.stopDatabase();
          Instant stopped = Instant.now();
          Thread.sleep(3_000);
          during = probe();
          sleepUntil(stopped.plus(plan.databaseDown));
          rig.startDatabase();
          longest(resumedAfter(Instant.now()));
        }
        case SIGSTOP -> {
          awaitShare(between(0.2, 0.5));
          sendsBefore = rig.accepted(marker);
          rig.engine.signal("STOP");
          Thread.sleep(plan.stopped.toMillis());
          rig.engine.signal("CONT");
          longest(resumedAfter(Instant.now()));
        }
        case RATE_LIMIT -> storm("{\"rateLimitPerSecond\":2}", plan.storm);
        case SERVER_ERROR -> storm("{\"errorRate\":0.5}", plan.storm);
        // Longer than one provider timeout (10 s), so that calls time out and are tried again.
        case TIMEOUT ->
            storm(
                "{\"latencyMs\":15000}",
                plan.storm.compareTo(Duration.ofSeconds(16)) < 0
                    ? Duration.ofSeconds(16)
                    : plan.storm);
        // Receipt faults last until every receipt was posted (see awaitCompleted).
        case REORDER -> {
          awaitShare(between(0.1, 0.3));
          sendsBefore = rig.accepted(marker);
          rig.faults("{\"reorderReceipts\":true}");
        }
        case REPLAY -> {
          awaitShare(between(0.1, 0.3));
          sendsBefore = rig.accepted(marker);
          rig.faults("{\"replayWebhooks\":true}");
        }
      }
    }

    private void storm(String faults, Duration length) throws Exception {
      awaitShare(between(0.2, 0.5));
      sendsBefore = rig.accepted(marker);
      rig.faults(faults);
      Thread.sleep(length.toMillis());
      rig.faults("{}");
      longest(resumedAfter(Instant.now()));
    }

    private void longest(Duration d) {
      if (d != null && (recovery == null || d.compareTo(recovery) > 0)) {
        recovery = d;
      }
    }

    /**
     * How long after {@code end} the twin accepted the campaign's next message; null when it got
     * none within the plan's patience (the campaign had finished, or the check reports what is
     * missing).
     */
    private Duration resumedAfter(Instant end) throws Exception {
      long deadline = System.nanoTime() + plan.patience.toNanos();
      while (System.nanoTime() < deadline) {
        for (JsonNode e : rig.sent(marker)) {
          Instant at = Instant.parse(e.get("at").asText());
          if (!e.get("duplicate").asBoolean() && at.isAfter(end)) {
            return Duration.between(end, at);
          }
        }
        if (state().equals("completed")) {
          return null;
        }
        Thread.sleep(50);
      }
      return null;
    }

    /** {@code GET /v1/campaigns/{id}}, given up after {@code timeout}. */
    private HttpResponse<String> campaignView(Duration timeout) throws Exception {
      return rig.engine.send(
          "GET",
          "/v1/campaigns/" + campaign,
          rig.operator,
          null,
          HttpRequest.BodyPublishers.noBody(),
          timeout);
    }

    /** What a read of the campaign answers while the database is down, and how fast. */
    private String probe() {
      long t0 = System.nanoTime();
      try {
        HttpResponse<String> r = campaignView(Duration.ofSeconds(30));
        return String.format(
            "GET campaign: %d in %d ms, Retry-After %s",
            r.statusCode(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            r.headers().firstValue("Retry-After").orElse("none"));
      } catch (Exception e) {
        return "GET campaign: no answer in 30 s (" + e.getClass().getSimpleName() + ")";
      }
    }

    private static void sleepUntil(Instant t) throws InterruptedException {
      long wait = Duration.between(Instant.now(), t).toMillis();
      if (wait > 0) {
        Thread.sleep(wait);
      }
    }

    private String state() {
      try {
        HttpResponse<String> r = campaignView(Duration.ofSeconds(5));
        return r.statusCode() == 200
            ? EngineProcess.JSON.readTree(r.body()).get("state").asText()
            : "unknown";
      } catch (Exception e) {
        return "unknown";
      }
    }

    /**
     * Waits until the campaign completed and the twin posted every receipt; then ends a receipt
     * fault.
     */
    private void awaitCompleted() throws Exception {
      long deadline = System.nanoTime() + plan.patience.toNanos();
      while (!state().equals("completed")) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              fault.name + ": campaign not completed in " + plan.patience + "\n" + diagnosis());
        }
        Thread.sleep(250);
      }
      while (true) {
        JsonNode receipts =
            EngineProcess.JSON
                .readTree(rig.sandbox("GET", "/sandbox/stats", null, Duration.ofSeconds(10)).body())
                .get("receipts");
        if (receipts.get("queued").asLong() == 0 && receipts.get("inFlight").asLong() == 0) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              fault.name + ": receipts still queued after " + plan.patience + "\n" + diagnosis());
        }
        Thread.sleep(250);
      }
      if (fault == Fault.REORDER || fault == Fault.REPLAY) {
        rig.faults("{}");
      }
    }

    /** What the campaign answers and the engine's last warnings, for a run that timed out. */
    private String diagnosis() {
      String view;
      try {
        HttpResponse<String> r = campaignView(Duration.ofSeconds(5));
        view = r.statusCode() + " " + r.body();
      } catch (Exception e) {
        view = "no answer (" + e + ")";
      }
      return "campaign: " + view + "\nthe engine's last warnings:\n" + rig.engine.lastWarnings(30);
    }

    /** The ledger check, repeated until clean or the plan's settle time passed. */
    private Row check() throws Exception {
      long deadline = System.nanoTime() + plan.settle.toNanos();
      while (true) {
        Row row = checkOnce();
        if (row.clean() || System.nanoTime() > deadline) {
          return row;
        }
        Thread.sleep(1_000);
      }
    }

    private Row checkOnce() throws Exception {
      List<String> notes = new ArrayList<>();
      long disagreements = 0;
      // The twin's account.
      Map<String, Set<String>> twinByPhone = new HashMap<>();
      long deduplicated = 0;
      for (JsonNode e : rig.sent(marker)) {
        if (e.get("duplicate").asBoolean()) {
          deduplicated++;
        } else {
          twinByPhone
              .computeIfAbsent(e.get("to").asText(), k -> new HashSet<>())
              .add(e.get("messageId").asText());
        }
      }
      long accepted = twinByPhone.values().stream().mapToLong(Set::size).sum();
      // The journal's account (the campaign entity's counts).
      JsonNode view = EngineProcess.JSON.readTree(campaignView(Duration.ofSeconds(30)).body());
      JsonNode counts = view.get("counts");
      // The read models' account.
      Map<String, String[]> rows = new HashMap<>();
      long committed;
      long reserved;
      Set<String> stored = new HashSet<>();
      Set<String> unprocessed = new HashSet<>();
      Set<String> taken = new HashSet<>();
      long replaysRefused = 0;
      for (Rig.Reply r : rig.replies.subList(firstReply, rig.replies.size())) {
        if (r.status() / 100 == 2) {
          taken.add(r.messageId());
          if (r.replayStatus() != null && r.replayStatus() / 100 != 2) {
            replaysRefused++;
          }
        }
      }
      try (Connection c = rig.sql()) {
        try (PreparedStatement st =
            c.prepareStatement(
                "select r.phone, coalesce(m.status, ''), coalesce(m.reason, ''),"
                    + " coalesce(m.provider_message_id, '') from recipients r left join messages m"
                    + " on m.tenant_id = r.tenant_id and m.campaign_id = r.campaign_id"
                    + " and m.recipient_no = r.recipient_no and m.step = 0"
                    + " where r.tenant_id = ? and r.campaign_id = ?")) {
          st.setString(1, TENANT);
          st.setString(2, campaign);
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              rows.put(
                  rs.getString(1),
                  new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
            }
          }
        }
        try (PreparedStatement st =
            c.prepareStatement(
                "select committed_micros, reserved_micros from spend_buckets"
                    + " where tenant_id = ? and bucket = ?")) {
          st.setString(1, TENANT);
          st.setString(2, "campaign:" + campaign);
          try (ResultSet rs = st.executeQuery()) {
            if (rs.next()) {
              committed = rs.getLong(1);
              reserved = rs.getLong(2);
            } else {
              committed = 0;
              reserved = 0;
              notes.add("no spend bucket for the campaign");
              disagreements++;
            }
          }
        }
        try (PreparedStatement st =
            c.prepareStatement(
                "select dedup_key, status from webhook_receipts where tenant_id = ?"
                    + " and provider = 'twilio' and kind = 'inbound' and dedup_key = any(?)")) {
          st.setString(1, TENANT);
          st.setArray(2, c.createArrayOf("text", taken.toArray()));
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              stored.add(rs.getString(1));
              if (rs.getString(2).equals("received")) {
                unprocessed.add(rs.getString(1));
              }
            }
          }
        }
      }
      // Person by person.
      Set<String> eligibleSet = new HashSet<>(eligible);
      long lost = 0;
      long duplicated = 0;
      long ineligible = 0;
      long regressed = 0;
      long failed = 0;
      long budgetBlocked = 0;
      for (String p : eligible) {
        Set<String> ids = twinByPhone.getOrDefault(p, Set.of());
        String[] row = rows.get(p);
        if (ids.size() > 1) {
          duplicated++;
        }
        if (row == null) {
          lost++;
          continue;
        }
        if (ids.isEmpty()) {
          if (row[0].equals("failed")) {
            failed++;
          } else if (row[0].equals("blocked") && blockedFor(row[1], "budget")) {
            budgetBlocked++;
          } else {
            lost++;
          }
        } else {
          if (!row[0].equals("delivered")) {
            regressed++;
          }
          if (!ids.contains(row[2])) {
            disagreements++;
            if (notes.size() < 8) {
              notes.add(p + ": the read model names " + row[2] + ", the twin " + ids);
            }
          }
        }
      }
      for (String p : twinByPhone.keySet()) {
        if (!eligibleSet.contains(p)) {
          ineligible++;
          notes.add(p + " was sent to, though " + (dnc.contains(p) ? "on DNC" : "opted out"));
        }
      }
      long givenUp = rig.receiptsGivenUp() - givenUpBefore;
      long lostReplies = taken.stream().filter(id -> !stored.contains(id)).count();
      if (lostReplies > 0) {
        notes.add(lostReplies + " replies taken with a 2xx are not stored");
      }
      if (replaysRefused > 0) {
        // A replayed request is answered as the first one was (the provider must not retry it).
        disagreements++;
        notes.add(replaysRefused + " replayed replies were not answered with a 2xx");
      }
      if (!unprocessed.isEmpty()) {
        notes.add(unprocessed.size() + " stored replies not processed yet");
        disagreements++;
      }
      // The four accounts side by side.
      Map<String, Long> journal = new LinkedHashMap<>();
      Map<String, Long> readModel = new LinkedHashMap<>();
      journal.put("recipients", counts.get("recipients").asLong());
      readModel.put("recipients", rows.values().stream().filter(r -> !r[0].isEmpty()).count());
      journal.put("sent", counts.get("sent").asLong());
      readModel.put("sent", rows.values().stream().filter(r -> ACCEPTED.contains(r[0])).count());
      journal.put("delivered", counts.get("delivered").asLong());
      readModel.put(
          "delivered", rows.values().stream().filter(r -> r[0].equals("delivered")).count());
      journal.put("failed", counts.get("failed").asLong());
      readModel.put("failed", rows.values().stream().filter(r -> r[0].equals("failed")).count());
      for (String reason : List.of("dnc", "optOut", "budget")) {
        journal.put("blocked." + reason, counts.get("blocked").path(reason).asLong());
        readModel.put(
            "blocked." + reason,
            rows.values().stream()
                .filter(r -> r[0].equals("blocked") && blockedFor(r[1], reason))
                .count());
      }
      for (String k : journal.keySet()) {
        if (!journal.get(k).equals(readModel.get(k))) {
          disagreements++;
          Map<String, Long> byStatus = new TreeMap<>();
          rows.values().forEach(r -> byStatus.merge(r[0] + "/" + r[1], 1L, Long::sum));
          notes.add(
              k
                  + ": journal "
                  + journal.get(k)
                  + ", read model "
                  + readModel.get(k)
                  + " (read model by status/reason: "
                  + byStatus
                  + ")");
        }
      }
      Map<String, Long> client = new LinkedHashMap<>();
      client.put("recipients", (long) (eligible.size() + dnc.size() + optedOut.size()));
      client.put("blocked.dnc", (long) dnc.size());
      client.put("blocked.optOut", (long) optedOut.size());
      for (String k : client.keySet()) {
        if (!client.get(k).equals(journal.get(k))) {
          disagreements++;
          notes.add(k + ": the list has " + client.get(k) + ", the journal " + journal.get(k));
        }
      }
      if (journal.get("sent") != accepted) {
        disagreements++;
        notes.add("sent: journal " + journal.get("sent") + ", twin " + accepted);
      }
      if (committed != accepted * SEGMENT_MICROS) {
        disagreements++;
        notes.add(
            "spent "
                + committed
                + " micro-dollars for "
                + accepted
                + " messages at "
                + SEGMENT_MICROS);
      }
      if (reserved != 0) {
        disagreements++;
        notes.add(reserved + " micro-dollars still reserved after the campaign");
      }
      if (!view.get("state").asText().equals("completed")) {
        disagreements++;
        notes.add("state " + view.get("state").asText());
      }
      return new Row(
          fault,
          sendsBefore,
          accepted - sendsBefore,
          failed,
          budgetBlocked,
          lost + lostReplies,
          duplicated,
          ineligible,
          regressed,
          givenUp,
          disagreements,
          Math.max(0, committed - budgetMicros),
          deduplicated,
          taken.size(),
          recovery,
          during,
          notes);
    }
  }

  /**
   * Whether a {@code messages} row's reason (a rule's name, as {@code opt_out: STOP}) is the API's
   * blocked {@code reason} ({@code optOut}).
   */
  private static boolean blockedFor(String storedReason, String reason) {
    String rule = storedReason.replace("_", "").replace("-", "").toLowerCase(java.util.Locale.ROOT);
    return rule.startsWith(reason.toLowerCase(java.util.Locale.ROOT));
  }

  private static void expect(HttpResponse<String> r, int status) {
    if (r.statusCode() != status) {
      throw new IllegalStateException(
          r.request().method()
              + " "
              + r.uri().getPath()
              + " answered "
              + r.statusCode()
              + ", expected "
              + status
              + ": "
              + r.body());
    }
  }
}
