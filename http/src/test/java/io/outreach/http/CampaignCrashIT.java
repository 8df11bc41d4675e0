package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine as its own process, SIGKILLed in the middle of a 10,000-recipient campaign, with the
 * standalone sandbox in another process that outlives it: started again on the same data, the
 * campaign completes with no API call, every eligible recipient was delivered exactly once (the
 * sandbox honours the idempotency keys the engine resends with), and the counts add up.
 */
class CampaignCrashIT {
  private static final int RECIPIENTS = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  private JsonNode sandboxLog(int port, String token) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/sandbox/log?tenant=crash"))
                .header("Authorization", "Bearer " + token)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void aCampaignKilledMidwayCompletesUnaidedAndDeliversEachRecipientOnce() throws Exception {
    int sandboxPort = JarProcess.freePort();
    int httpPort = JarProcess.freePort();
    try (JarProcess node = new JarProcess(Files.createTempDirectory("outreach-crash-"), httpPort)) {
      // Both processes find the same token secret in the node's data directory.
      node.startSandbox(sandboxPort, "http://127.0.0.1:" + httpPort);
      node.env("OUTREACH_SANDBOX_URL", "http://127.0.0.1:" + sandboxPort)
          .env("OUTREACH_SANDBOX_SERVE", "off")
          .env("OUTREACH_PUBLIC_URL", "http://127.0.0.1:" + httpPort)
          // Legal hours are not this test's subject: it must pass at any hour.
          .jvm("-Doutreach.compliance.federal-hours.start=00:00")
          .jvm("-Doutreach.compliance.federal-hours.end=23:59:59.999999999");
      Process first = node.startEngine("crash-first");
      String platform = node.token("--tenant", "platform", "--roles", "platform");
      String viewer = node.token("--tenant", "crash", "--roles", "viewer");
      assertThat(
              node.json(
                      "POST",
                      "/v1/tenants",
                      platform,
                      "{\"id\":\"crash\",\"name\":\"Crash\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}")
                  .statusCode())
          .isEqualTo(201);
      String admin = node.token("--tenant", "crash", "--roles", "admin");
      assertThat(
              node.json(
                      "PATCH",
                      "/v1/tenant",
                      admin,
                      "{\"senders\":[{\"provider\":\"twilio\",\"from\":\"+15550100001\",\"kind\":\"short_code\",\"mps\":1000}]}")
                  .statusCode())
          .isEqualTo(200);

      StringBuilder csv = new StringBuilder("first_name,phone\n");
      for (int i = 0; i < RECIPIENTS; i++) {
        csv.append("R")
            .append(i)
            .append(",+1212")
            .append(300 + i / 10_000)
            .append(String.format("%04d", i % 10_000))
            .append('\n');
      }
      var imported = node.send("POST", "/v1/imports", admin, "text/csv", csv.toString());
      assertThat(imported.statusCode()).as(imported.body()).isEqualTo(202);
      String importId = JSON.readTree(imported.body()).get("id").asText();
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  JSON.readTree(
                          node.send("GET", "/v1/imports/" + importId, admin, null, null).body())
                      .get("status")
                      .asText()
                      .equals("completed"));
      var created =
          node.json(
              "POST",
              "/v1/campaigns",
              admin,
              "{\"name\":\"Crash\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                  + importId
                  + "\"},\"message\":\"Hi {{first_name}}\"}");
      String id = JSON.readTree(created.body()).get("id").asText();
      assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", admin, null).statusCode())
          .isEqualTo(202);

      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> sandboxLog(sandboxPort, viewer).size() >= 2_000);
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      int atKill = sandboxLog(sandboxPort, viewer).size();
      assertThat(atKill).as("killed mid-campaign").isLessThan(RECIPIENTS);

      node.startEngine("crash-after-sigkill");
      JsonNode[] c = new JsonNode[1];
      await()
          .atMost(Duration.ofSeconds(240))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> {
                c[0] =
                    JSON.readTree(
                        node.send("GET", "/v1/campaigns/" + id, admin, null, null).body());
                return c[0].get("state").asText().equals("completed");
              });
      JsonNode counts = c[0].get("counts");
      long blocked = 0;
      for (JsonNode n : counts.get("blocked")) {
        blocked += n.asLong();
      }
      assertThat(counts.get("sent").asLong()).isEqualTo(RECIPIENTS);
      assertThat(counts.get("recipients").asLong())
          .isEqualTo(counts.get("sent").asLong() + counts.get("failed").asLong() + blocked);

      Map<String, Integer> delivered = new HashMap<>();
      int repeats = 0;
      for (JsonNode e : sandboxLog(sandboxPort, viewer)) {
        if (e.path("duplicate").asBoolean(false)) {
          repeats++;
        } else {
          delivered.merge(e.get("to").asText(), 1, Integer::sum);
        }
      }
      assertThat(delivered).hasSize(RECIPIENTS);
      assertThat(delivered.values()).allMatch(n -> n == 1);
      System.out.printf(
          "CampaignCrashIT: killed at %d of %d delivered; %d repeats after the restart, all deduplicated%n",
          atKill, RECIPIENTS, repeats);
    }
  }
}
