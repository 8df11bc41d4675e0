package io.outreach.loadtest;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The campaign benchmark on a cluster of N local nodes (default 1, then 3): for each size, one
 * PostgreSQL served by the engine's {@code database} command, one unthrottled standalone sandbox,
 * and N engine processes joined by {@code OUTREACH_CLUSTER_SEED_NODES}, each at {@code --heap}
 * (default 256m); a warm-up campaign of {@code --warmup} recipients (default 1,000), then a
 * campaign of {@code --recipients} (default 10,000) through one short code allowed {@code --mps}
 * (default 10,000): sends per second from launch to completed (provider calls), and the time until
 * every delivery receipt is stored. On one machine the nodes share its cores (and the database's):
 * three nodes measure the cost of the cluster there, not its capacity on three machines. Legal
 * hours are widened to the whole day on every node (this is not their benchmark).
 */
final class ClusterBenchmark {
  private ClusterBenchmark() {}

  private static final String SECRETS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

  static void run(Options o) throws Exception {
    Path jar = Path.of(o.get("engine-jar", "http/target/outreach-engine.jar"));
    long recipients = Long.parseLong(o.get("recipients", "10000"));
    long warmup = Long.parseLong(o.get("warmup", "1000"));
    String heap = o.get("heap", "256m");
    int mps = Integer.parseInt(o.get("mps", "10000"));
    Map<Integer, Double> results = new java.util.LinkedHashMap<>();
    for (String n : o.get("nodes", "1,3").split(",")) {
      int nodes = Integer.parseInt(n.trim());
      results.put(nodes, runCluster(jar, nodes, heap, mps, warmup, recipients));
    }
    System.out.println();
    System.out.printf("== cluster benchmark: campaign of %,d recipients ==%n", recipients);
    results.forEach(
        (nodes, rate) ->
            System.out.printf(
                "%d node%s: %,.0f sends/s (launch to completed)%n",
                nodes, nodes == 1 ? " " : "s", rate));
  }

  private static double runCluster(
      Path jar, int n, String heap, int mps, long warmup, long recipients) throws Exception {
    System.out.printf("%n== %d node%s ==%n", n, n == 1 ? "" : "s");
    Path dir = Files.createTempDirectory("outreach-cluster-bench-");
    int dbPort = EngineProcess.freePort();
    // A fresh database for each cluster size, in this run's own directory.
    Process database =
        EngineProcess.startDatabase(jar, dir.resolve("db"), dbPort, dir.resolve("database.log"));
    List<EngineProcess> engines = new ArrayList<>();
    Process sandbox = null;
    try {
      List<Integer> remotes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        remotes.add(EngineProcess.freePort());
      }
      StringBuilder seeds = new StringBuilder();
      remotes.forEach(
          r -> seeds.append(seeds.length() == 0 ? "" : ",").append("127.0.0.1:").append(r));
      int sandboxPort = EngineProcess.freePort();
      List<Integer> httpPorts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        httpPorts.add(EngineProcess.freePort());
      }
      List<CompletableFuture<EngineProcess>> starting = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Map<String, String> env = new HashMap<>();
        env.put("OUTREACH_CLUSTER_SEED_NODES", seeds.toString());
        env.put("OUTREACH_REMOTE_PORT", Integer.toString(remotes.get(i)));
        env.put("OUTREACH_DB_URL", "jdbc:postgresql://localhost:" + dbPort + "/outreach");
        env.put("OUTREACH_DB_USER", "outreach_app");
        env.put("OUTREACH_DB_OWNER_USER", "outreach_owner");
        env.put("OUTREACH_SECRETS_KEY", SECRETS_KEY);
        env.put("OUTREACH_SANDBOX_URL", "http://127.0.0.1:" + sandboxPort);
        env.put("OUTREACH_SANDBOX_SERVE", "off");
        // The cluster's one public address (node 1's): the sandbox calls back only there.
        env.put("OUTREACH_PUBLIC_URL", "http://127.0.0.1:" + httpPorts.get(0));
        env.put(
            "JAVA_TOOL_OPTIONS",
            "-Doutreach.compliance.federal-hours.start=00:00"
                + " -Doutreach.compliance.federal-hours.end=23:59:59.999999999");
        int httpPort = httpPorts.get(i);
        starting.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return EngineProcess.start(jar, heap, env, httpPort);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                },
                r -> new Thread(r, "start-node").start()));
      }
      for (CompletableFuture<EngineProcess> s : starting) {
        engines.add(s.join());
      }
      EngineProcess first = engines.get(0);
      sandbox =
          EngineProcess.startSandbox(
              jar, dir.resolve("sandbox.log"), sandboxPort, "http://127.0.0.1:" + first.port);
      CampaignBenchmark.awaitUp("http://127.0.0.1:" + sandboxPort + "/sandbox/stats");
      String platform = first.token("platform", "platform");
      first.createTenant(platform, "bench", "Bench", "UTC");
      first.send(
          "PATCH",
          "/v1/tenant",
          first.token("bench", "admin"),
          "application/json",
          HttpRequest.BodyPublishers.ofString(
              "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\"short_code\",\"mps\":"
                  + mps
                  + "}]}"));
      String token = first.token("bench", "operator");
      if (warmup > 0) {
        System.out.printf("warm-up: %,d recipients%n", warmup);
        campaign(engines, token, 0, warmup);
      }
      return campaign(engines, token, warmup, recipients);
    } finally {
      if (sandbox != null) {
        sandbox.destroy();
      }
      // Stopped in parallel: each leaves the cluster and hands its shards over.
      engines.parallelStream().forEach(EngineProcess::close);
      database.destroy();
      database.waitFor();
    }
  }

  /**
   * A campaign to people {@code first ..}: imported through the first node, launched and followed
   * through every node in turn.
   */
  private static double campaign(List<EngineProcess> engines, String token, long first, long n)
      throws Exception {
    EngineProcess entry = engines.get(0);
    Path csv = Files.createTempFile("outreach-cluster-bench-", ".csv");
    StringBuilder b = new StringBuilder("first_name,phone\n");
    for (long i = first; i < first + n; i++) {
      long p = 3_000_000 + i;
      b.append("R")
          .append(i)
          .append(",+1212")
          .append(p / 10_000)
          .append(String.format("%04d", p % 10_000))
          .append('\n');
    }
    Files.writeString(csv, b);
    var imported =
        entry.send(
            "POST", "/v1/imports", token, "text/csv", HttpRequest.BodyPublishers.ofFile(csv));
    Files.deleteIfExists(csv);
    String importId = EngineProcess.JSON.readTree(imported.body()).get("id").asText();
    entry.awaitImport(importId, token);
    String id =
        EngineProcess.JSON
            .readTree(
                entry
                    .send(
                        "POST",
                        "/v1/campaigns",
                        token,
                        "application/json",
                        HttpRequest.BodyPublishers.ofString(
                            "{\"name\":\"cluster bench\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                                + importId
                                + "\"},\"message\":\"Hi {{first_name}}, this is a benchmark\"}"))
                    .body())
            .get("id")
            .asText();
    long t0 = System.nanoTime();
    entry.send(
        "POST",
        "/v1/campaigns/" + id + "/launch",
        token,
        null,
        HttpRequest.BodyPublishers.noBody());
    int poll = 0;
    while (!engines
        .get(poll++ % engines.size())
        .getJson("/v1/campaigns/" + id, token)
        .get("state")
        .asText()
        .equals("completed")) {
      if (System.nanoTime() - t0 > java.util.concurrent.TimeUnit.MINUTES.toNanos(30)) {
        throw new IllegalStateException("campaign " + id + " not completed after 30 minutes");
      }
      Thread.sleep(100);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    var counts = entry.getJson("/v1/campaigns/" + id, token).get("counts");
    long sent = counts.get("sent").asLong();
    System.out.printf(
        "%,d recipients on %d node%s: sent %d, failed %d, blocked %s; launch to completed %.2f s"
            + " => %,.0f sends/s%n",
        n,
        engines.size(),
        engines.size() == 1 ? "" : "s",
        sent,
        counts.get("failed").asLong(),
        counts.get("blocked"),
        seconds,
        sent / seconds);
    return sent / seconds;
  }
}
