package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A real cluster: three engine processes on loopback joined through {@code
 * OUTREACH_CLUSTER_SEED_NODES}, sharing one PostgreSQL (the engine's {@code database} command) and
 * sending through one standalone sandbox. A 50 mps sender never exceeds 50 in any second at the
 * twin while the three nodes send for it, and a kill switch engaged through node A stops the sends
 * of every node before its answer; a node SIGKILLed mid-campaign is downed by the Split Brain
 * Resolver and the survivors finish its work, every eligible recipient in the twin's log exactly
 * once, with counts that add up and no message left pending.
 *
 * <p>In {@code mvn verify} the campaigns are small (a few hundred recipients) so the class stays
 * within about a minute and a half. The full run, 10,000 recipients and a rolling restart of every
 * node during a campaign, is {@code -Doutreach.cluster-it.recipients=10000} (see
 * loadtest/README.md, "Cluster").
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  /** Recipients of the SIGKILL campaign (and of the rolling restart's, in the full run). */
  private static final int RECIPIENTS = Integer.getInteger("outreach.cluster-it.recipients", 600);

  /** The full run restarts every node in turn during a campaign. */
  private static final boolean FULL = RECIPIENTS >= 5_000;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final JwtAuth AUTH = new JwtAuth(TestEngine.SECRET, Duration.ZERO);
  private static final String SECRETS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

  private static JarProcess database;
  private static JarProcess sandbox;
  private static int sandboxPort;
  private static final List<JarProcess> nodes = new ArrayList<>();
  private static final Process[] running = new Process[3];
  private static final Set<Integer> taken = new HashSet<>();
  private static long phones = 3_000_000;

  @BeforeAll
  static void startCluster() throws Exception {
    long t0 = System.nanoTime();
    int dbPort = port();
    database = new JarProcess(Files.createTempDirectory("outreach-cluster-db-"), port());
    CompletableFuture<Process> db = async(() -> database.startDatabase(dbPort));

    List<Integer> remotes = List.of(port(), port(), port());
    StringBuilder seeds = new StringBuilder();
    for (int r : remotes) {
      seeds.append(seeds.length() == 0 ? "" : ",").append("127.0.0.1:").append(r);
    }
    sandboxPort = port();
    List<Integer> httpPorts = List.of(port(), port(), port());
    for (int i = 0; i < 3; i++) {
      int http = httpPorts.get(i);
      JarProcess node =
          new JarProcess(
              Files.createTempDirectory("outreach-cluster-node-"), http, port(), remotes.get(i));
      node.env("OUTREACH_CLUSTER_SEED_NODES", seeds.toString())
          .env("OUTREACH_DB_URL", "jdbc:postgresql://localhost:" + dbPort + "/outreach")
          .env("OUTREACH_DB_USER", "outreach_app")
          .env("OUTREACH_DB_OWNER_USER", "outreach_owner")
          .env("OUTREACH_JWT_SECRET", TestEngine.SECRET)
          .env("OUTREACH_SECRETS_KEY", SECRETS_KEY)
          .env("OUTREACH_SANDBOX_URL", "http://127.0.0.1:" + sandboxPort)
          .env("OUTREACH_SANDBOX_SERVE", "off")
          // The cluster's one public address (a load balancer's, in production): node A's here,
          // the only engine URL the standalone sandbox calls back.
          .env("OUTREACH_PUBLIC_URL", "http://127.0.0.1:" + httpPorts.get(0))
          // Legal hours are not this test's subject: it must pass at any hour.
          .jvm("-Doutreach.compliance.federal-hours.start=00:00")
          .jvm("-Doutreach.compliance.federal-hours.end=23:59:59.999999999");
      nodes.add(node);
    }
    // Receipts and replies go to node A, which this class never stops in the short run.
    sandbox = new JarProcess(Files.createTempDirectory("outreach-cluster-sandbox-"), port());
    sandbox.env("OUTREACH_JWT_SECRET", TestEngine.SECRET);
    CompletableFuture<Process> twins =
        async(() -> sandbox.startSandbox(sandboxPort, "http://127.0.0.1:" + nodes.get(0).httpPort));
    db.join();
    List<CompletableFuture<Process>> starting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int n = i;
      starting.add(async(() -> nodes.get(n).startEngine("cluster-" + "abc".charAt(n))));
    }
    for (int i = 0; i < 3; i++) {
      running[i] = starting.get(i).join();
    }
    twins.join();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> members(nodes.get(0)) == 3 && members(nodes.get(2)) == 3);
    System.out.printf(
        "ClusterIT: database, sandbox and three nodes up in %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  @AfterAll
  static void stopCluster() {
    nodes.forEach(JarProcess::close);
    if (sandbox != null) {
      sandbox.close();
    }
    if (database != null) {
      database.close();
    }
  }

  /**
   * Three campaigns of one tenant's 50 mps sender, their blocks spread over the three nodes: no
   * second at the twin holds more than 50; then a kill switch engaged through node A: from its
   * answer on, no node's call reaches the twin (calls already under way excepted: they arrive
   * within a moment), and the campaigns finish once it is released.
   */
  @Test
  @Order(1)
  void aFiftyMpsSenderHoldsAtTheTwinAndAKillSwitchThroughOneNodeStopsEveryNode() throws Exception {
    String tenant = "paced";
    tenant(tenant, "long_code", 50);
    String op = token(tenant, Role.OPERATOR);
    // Through each node, at once.
    List<String> imports = importsOf(op, 120);
    List<String> campaigns = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // Each campaign through another node, each a block of its own.
      campaigns.add(campaign(nodes.get(i), op, imports.get(i)));
    }
    Set<String> sendingNodes = new HashSet<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              for (int i = 0; i < 3; i++) {
                if (blockShardsOn(nodes.get(i)) > 0) {
                  sendingNodes.add("abc".substring(i, i + 1));
                }
              }
              return log(tenant).size() >= 120;
            });
    var engaged = nodes.get(0).json("POST", "/v1/kill-switches", op, "{\"scope\":\"tenant\"}");
    Instant answered = Instant.now();
    assertThat(engaged.statusCode()).as(engaged.body()).isEqualTo(201);
    await().pollDelay(Duration.ofMillis(1600)).atMost(Duration.ofSeconds(3)).until(() -> true);
    List<Instant> before = arrivals(log(tenant));
    Instant last = before.get(before.size() - 1);
    List<Long> late =
        before.stream()
            .filter(t -> t.isAfter(answered))
            .map(t -> Duration.between(answered, t).toMillis())
            .toList();
    System.out.printf(
        "ClusterIT: kill switch answered through node A after %d sends; %d reached the twin after"
            + " the answer (ms after it: %s); blocks seen on nodes %s%n",
        before.size(), late.size(), late, sendingNodes);
    assertThat(sendingNodes).as("nodes running the sender's blocks").hasSize(3);
    // No call starts after the answer (decision 081); one started before it may still be on its
    // way: at most the sender's rate of them (its slots let no more be under way), arriving within
    // moments, which on two busy cores (three engines, the database and the twin) can be a second.
    assertThat(late.size()).as("calls arriving after the answer").isLessThanOrEqualTo(50);
    assertThat(last)
        .as("no call reaches the twin later than those under way at the answer")
        .isBefore(answered.plusMillis(1500));
    assertThat(before.size()).isLessThan(360);

    String ks = JSON.readTree(engaged.body()).get("id").asText();
    assertThat(
            nodes
                .get(2)
                .send("DELETE", "/v1/kill-switches/" + ks, token(tenant, Role.ADMIN), null, null)
                .statusCode())
        .isEqualTo(204);
    for (String id : campaigns) {
      awaitCompleted(nodes.get(1), op, id, Duration.ofSeconds(60));
    }
    List<JsonNode> log = log(tenant);
    assertExactlyOnce(log, 360);
    assertThat(mostInOneSecond(arrivals(log)))
        .as("most sends of the 50 mps sender the twin saw in any one second")
        .isLessThanOrEqualTo(50);
  }

  /**
   * A node SIGKILLed mid-campaign: the Split Brain Resolver downs it, its blocks move to the
   * survivors and are woken there, and the campaign completes with every recipient once.
   */
  @Test
  @Order(2)
  void aNodeKilledMidCampaignIsMadeGoodByTheSurvivors() throws Exception {
    String tenant = "killed";
    tenant(tenant, "short_code", FULL ? 1000 : 100);
    String op = token(tenant, Role.OPERATOR);
    List<String> campaigns = new ArrayList<>();
    int perCampaign = RECIPIENTS / 3;
    List<String> imports = importsOf(op, perCampaign);
    for (int i = 0; i < 3; i++) {
      campaigns.add(campaign(nodes.get(i), op, imports.get(i)));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> log(tenant).size() >= RECIPIENTS / 5);
    int blocksOnC = blockShardsOn(nodes.get(2));
    running[2].destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    long killedAt = System.nanoTime();
    int atKill = log(tenant).size();
    assertThat(atKill).as("killed mid-campaign").isLessThan(3 * perCampaign);
    for (String id : campaigns) {
      awaitCompleted(nodes.get(0), op, id, Duration.ofSeconds(120));
    }
    System.out.printf(
        "ClusterIT: node C (holding %d block shards) killed at %d of %d sent; the survivors completed"
            + " the campaigns %d ms later%n",
        blocksOnC,
        atKill,
        3 * perCampaign,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
    assertExactlyOnce(log(tenant), 3 * perCampaign);
    for (String id : campaigns) {
      assertCountsAddUp(nodes.get(1), op, id, perCampaign);
    }
    if (FULL) {
      rollingRestart(op, tenant, 3 * perCampaign);
    }
  }

  /**
   * The full run only: every node stopped (SIGTERM) and started again in turn while a campaign
   * sends; nothing lost, nothing duplicated, nothing left pending.
   */
  private static void rollingRestart(String op, String tenant, int reached) throws Exception {
    // Node C is down since the SIGKILL: it comes back first.
    running[2] = nodes.get(2).startEngine("cluster-c-again");
    int before = log(tenant).size();
    String id = campaign(nodes.get(0), op, importOf(nodes.get(0), op, RECIPIENTS));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> log(tenant).size() >= before + RECIPIENTS / 10);
    for (int i = 2; i >= 0; i--) {
      JarProcess.stopGracefully(running[i]);
      running[i] = nodes.get(i).startEngine("cluster-rolled-" + "abc".charAt(i));
    }
    awaitCompleted(nodes.get(1), op, id, Duration.ofSeconds(600));
    assertExactlyOnce(log(tenant), reached + RECIPIENTS);
    assertCountsAddUp(nodes.get(1), op, id, RECIPIENTS);
    System.out.printf(
        "ClusterIT: rolling restart of three nodes during a %d-recipient campaign: each once%n",
        RECIPIENTS);
  }

  // --- the cluster seen from outside ---

  private static int members(JarProcess node) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + node.managementPort + "/cluster/members"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      int up = 0;
      for (JsonNode m : JSON.readTree(r.body()).get("members")) {
        if (m.get("status").asText().equals("Up")) {
          up++;
        }
      }
      return up;
    } catch (IOException | RuntimeException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  /**
   * Shards of Block entities on {@code node} (its own shard region's): a shard is placed on a node
   * when its first block starts, and this class's tenants are the only ones.
   */
  private static int blockShardsOn(JarProcess node) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + node.managementPort + "/cluster/shards/Block"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body()).path("regions").size();
    } catch (IOException | RuntimeException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  // --- tenants, imports, campaigns ---

  private static void tenant(String id, String kind, int mps) throws Exception {
    JarProcess node = nodes.get(1);
    var created =
        node.json(
            "POST",
            "/v1/tenants",
            token("platform", Role.PLATFORM),
            "{\"id\":\""
                + id
                + "\",\"name\":\""
                + id
                + "\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    var senders =
        node.json(
            "PATCH",
            "/v1/tenant",
            token(id, Role.ADMIN),
            "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\""
                + kind
                + "\",\"mps\":"
                + mps
                + "}]}");
    assertThat(senders.statusCode()).as(senders.body()).isEqualTo(200);
  }

  /** Three imports of {@code n} new people each, one through each node, at the same time. */
  private static List<String> importsOf(String op, int n) throws Exception {
    List<String> csvs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      csvs.add(people(n));
    }
    List<CompletableFuture<String>> running = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int k = i;
      running.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return importOf(nodes.get(k), op, csvs.get(k));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              r -> new Thread(r, "cluster-it-import").start()));
    }
    List<String> ids = new ArrayList<>();
    for (CompletableFuture<String> r : running) {
      ids.add(r.join());
    }
    return ids;
  }

  private static String importOf(JarProcess node, String op, int n) throws Exception {
    return importOf(node, op, people(n));
  }

  /** A CSV of {@code n} people no other import of this class has. */
  private static synchronized String people(int n) {
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < n; i++) {
      long p = phones++;
      csv.append("R")
          .append(p)
          .append(",+1212")
          .append(p / 10_000)
          .append(String.format("%04d", p % 10_000))
          .append('\n');
    }
    return csv.toString();
  }

  private static String importOf(JarProcess node, String op, String csv) throws Exception {
    var imported = node.send("POST", "/v1/imports", op, "text/csv", csv);
    assertThat(imported.statusCode()).as(imported.body()).isEqualTo(202);
    String id = JSON.readTree(imported.body()).get("id").asText();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                JSON.readTree(node.send("GET", "/v1/imports/" + id, op, null, null).body())
                    .path("status")
                    .asText()
                    .equals("completed"));
    return id;
  }

  private static String campaign(JarProcess node, String op, String importId) throws Exception {
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Cluster\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + importId
                + "\"},\"message\":\"Hi {{first_name}}\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = JSON.readTree(created.body()).get("id").asText();
    var launched = node.json("POST", "/v1/campaigns/" + id + "/launch", op, null);
    assertThat(launched.statusCode()).as(launched.body()).isEqualTo(202);
    return id;
  }

  private static void awaitCompleted(JarProcess node, String op, String id, Duration atMost) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () ->
                JSON.readTree(node.send("GET", "/v1/campaigns/" + id, op, null, null).body())
                    .path("state")
                    .asText()
                    .equals("completed"));
  }

  /** Sent, failed and blocked add up to the recipients; no message is left pending. */
  private static void assertCountsAddUp(JarProcess node, String op, String id, int recipients)
      throws Exception {
    JsonNode counts =
        JSON.readTree(node.send("GET", "/v1/campaigns/" + id, op, null, null).body()).get("counts");
    long blocked = 0;
    for (JsonNode n : counts.get("blocked")) {
      blocked += n.asLong();
    }
    assertThat(counts.get("recipients").asLong()).isEqualTo(recipients);
    assertThat(counts.get("sent").asLong()).isEqualTo(recipients);
    assertThat(counts.get("sent").asLong() + counts.get("failed").asLong() + blocked)
        .isEqualTo(recipients);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () ->
                JSON.readTree(
                        node.send(
                                "GET",
                                "/v1/campaigns/" + id + "/messages?status=pending&limit=10",
                                op,
                                null,
                                null)
                            .body())
                    .path("items")
                    .isEmpty());
  }

  // --- the twin's log ---

  private static List<JsonNode> log(String tenant) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + sandboxPort + "/sandbox/log?tenant=" + tenant))
                .header("Authorization", "Bearer " + token(tenant, Role.VIEWER))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    JSON.readTree(r.body()).forEach(out::add);
    return out;
  }

  /** Every recipient reached once: repeats only as deduplicated retries of the same key. */
  private static void assertExactlyOnce(List<JsonNode> log, int recipients) {
    Map<String, Integer> delivered = new HashMap<>();
    for (JsonNode e : log) {
      if (!e.path("duplicate").asBoolean(false)) {
        delivered.merge(e.get("to").asText(), 1, Integer::sum);
      }
    }
    assertThat(delivered).hasSize(recipients);
    assertThat(delivered.values()).allMatch(n -> n == 1);
  }

  private static List<Instant> arrivals(List<JsonNode> log) {
    return log.stream()
        .filter(e -> !e.path("duplicate").asBoolean(false))
        .map(e -> Instant.parse(e.get("at").asText()))
        .sorted()
        .toList();
  }

  /** The most arrivals in any window {@code (t - 1 s, t]}. */
  private static int mostInOneSecond(List<Instant> at) {
    ArrayDeque<Instant> window = new ArrayDeque<>();
    int worst = 0;
    for (Instant t : at) {
      window.addLast(t);
      while (!window.peekFirst().isAfter(t.minusSeconds(1))) {
        window.pollFirst();
      }
      worst = Math.max(worst, window.size());
    }
    return worst;
  }

  // --- plumbing ---

  private static String token(String tenant, Role... roles) {
    return AUTH.issue(
        "cluster-it", tenant, Set.of(roles), Duration.ofMinutes(30), Clock.systemUTC());
  }

  /** A free port in 20000-32000 (below the ephemeral range), not given out before here. */
  private static synchronized int port() throws IOException {
    for (int i = 0; i < 1000; i++) {
      int p = ThreadLocalRandom.current().nextInt(20_000, 32_000);
      if (taken.contains(p)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
        taken.add(p);
        return s.getLocalPort();
      } catch (IOException busy) {
        // taken by someone else: another one
      }
    }
    throw new IOException("no free port in 20000-32000");
  }

  @FunctionalInterface
  private interface Start {
    Process run() throws Exception;
  }

  /** Runs {@code start} on a thread of its own (the common pool may have one thread here). */
  private static CompletableFuture<Process> async(Start start) {
    CompletableFuture<Process> started = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                started.complete(start.run());
              } catch (Exception | AssertionError e) {
                started.completeExceptionally(e);
              }
            },
            "cluster-it-start");
    t.setDaemon(true);
    t.start();
    return started;
  }
}
