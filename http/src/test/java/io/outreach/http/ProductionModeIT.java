package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Production mode trusts nothing public: no sandbox routes, the twins' test credentials refused as
 * an account and as a webhook signature (a forged START signed with the sandbox token cannot undo a
 * real STOP), and a launch without the provider's account is a clear problem. And the jar refuses
 * to start, naming each missing setting.
 */
class ProductionModeIT {
  private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  private static final String SID = "AC" + "c3".repeat(16);
  private static final String TOKEN = "the-real-twilio-auth-token-0001";
  private static final String PERSON = "+12125550147";
  private static TestEngine node;
  private static String publicUrl;

  @BeforeAll
  static void start() throws Exception {
    int port = JarProcess.freePort();
    publicUrl = "http://127.0.0.1:" + port;
    Map<String, Object> config = new HashMap<>();
    config.put("outreach.mode", "production");
    config.put("outreach.http.port", port);
    config.put("outreach.public-url", publicUrl);
    config.put("outreach.secrets.key", KEY);
    node = TestEngine.start(Files.createTempDirectory("outreach-prod-"), config);
    node.tenant("prod");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static int twilioInbound(String body, String token) {
    String path = "/webhooks/twilio/prod/sms";
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid", "SM" + Integer.toHexString(body.hashCode()) + token.length(),
                "From", PERSON,
                "To", "+15550100009",
                "Body", body,
                "AccountSid", SID));
    String form =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return node.send(
            "POST",
            path,
            null,
            "application/x-www-form-urlencoded",
            HttpRequest.BodyPublishers.ofString(form),
            "X-Twilio-Signature",
            TwilioSignature.sign(token, publicUrl + path, params))
        .statusCode();
  }

  private static boolean optedOut() {
    var c = node.get("/v1/conversations/" + PERSON, node.token("prod", Role.VIEWER));
    return c.statusCode() == 200 && IntakeIT.body(c).at("/conversation/optedOut").asBoolean();
  }

  @Test
  void noSandboxAndNoTestCredentials() {
    assertThat(
            node.get("/sandbox/log?tenant=prod", node.token("platform", Role.PLATFORM))
                .statusCode())
        .isEqualTo(404);
    var refused =
        node.json(
            "PUT",
            "/v1/tenant/providers/twilio",
            node.token("prod", Role.ADMIN),
            "{\"accountSid\":\"AC"
                + "0".repeat(32)
                + "\",\"authToken\":\"sandbox-twilio-auth-token\"}");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("test credentials");
    var apollo =
        node.json(
            "PUT",
            "/v1/tenant/providers/apollo",
            node.token("prod", Role.ADMIN),
            "{\"apiKey\":\"sandbox-apollo-api-key\"}");
    assertThat(apollo.statusCode()).isEqualTo(400);
    assertThat(apollo.body()).contains("test credentials");
  }

  @Test
  void anEnrichmentWithoutAnApolloAccountIsAClearProblem() {
    node.settings(
        "prod", "{\"agentPolicies\":{\"luci\":{\"enabled\":true,\"humanReview\":false}}}");
    String op = node.token("prod", Role.OPERATOR);
    String importId =
        IntakeIT.importAndWait(node, op, "email\nann.lee@prod.example\n").get("id").asText();
    var refused = node.json("POST", "/v1/enrichments", op, "{\"importId\":\"" + importId + "\"}");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
    assertThat(IntakeIT.body(refused).get("type").asText())
        .isEqualTo("urn:outreach:problem:provider-account-missing");
    assertThat(refused.body()).contains("PUT /v1/tenant/providers/apollo");
  }

  @Test
  void aForgedStartSignedWithTheSandboxTokenLeavesTheOptOut() {
    var set =
        node.json(
            "PUT",
            "/v1/tenant/providers/twilio",
            node.token("prod", Role.ADMIN),
            "{\"accountSid\":\"" + SID + "\",\"authToken\":\"" + TOKEN + "\"}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);

    assertThat(twilioInbound("STOP", TOKEN)).isEqualTo(200);
    await().atMost(Duration.ofSeconds(20)).until(ProductionModeIT::optedOut);
    assertThat(twilioInbound("START", "sandbox-twilio-auth-token")).isEqualTo(403);
    assertThat(twilioInbound("START", "not-the-tenant-s-token-000")).isEqualTo(403);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(ProductionModeIT::optedOut);
  }

  @Test
  void aLaunchWithoutTheProvidersAccountIsAClearProblem() {
    String op = node.token("prod", Role.OPERATOR);
    node.settings(
        "prod",
        "{\"senders\":[{\"provider\":\"signalhouse\",\"from\":\"+15550100010\",\"kind\":\"long_code\"}]}");
    String importId =
        IntakeIT.importAndWait(node, op, "first_name,phone\nAnn,+12125550188\n").get("id").asText();
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"No account\",\"channel\":\"sms\",\"provider\":\"signalhouse\",\"audience\":{\"importId\":\""
                + importId
                + "\"},\"message\":\"Hi {{first_name}}\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = IntakeIT.body(created).get("id").asText();
    var launch = node.json("POST", "/v1/campaigns/" + id + "/launch", op, null);
    assertThat(launch.statusCode()).isEqualTo(409);
    assertThat(IntakeIT.body(launch).get("type").asText())
        .isEqualTo("urn:outreach:problem:provider-account-missing");
    assertThat(launch.body()).contains("PUT /v1/tenant/providers/signalhouse");
    assertThat(IntakeIT.body(node.get("/v1/campaigns/" + id, op)).get("state").asText())
        .isEqualTo("draft");
  }

  /** Each of the three required settings missing: the jar exits non-zero naming it. */
  @Test
  void theJarRefusesToStartNamingEachMissingSetting() throws Exception {
    Map<String, String> all =
        Map.of(
            "OUTREACH_PUBLIC_URL", "https://engine.example",
            "OUTREACH_SECRETS_KEY", KEY,
            "OUTREACH_JWT_SECRET", "a-production-jwt-secret-of-32-bytes-or-more");
    for (String missing : all.keySet()) {
      JarProcess jar =
          new JarProcess(Files.createTempDirectory("outreach-refuse-"), JarProcess.freePort());
      jar.env("OUTREACH_MODE", "production");
      all.forEach((k, v) -> jar.env(k, k.equals(missing) ? "" : v));
      Process p = jar.startRefused("refused-" + missing);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits by itself").isTrue();
      assertThat(p.exitValue()).isNotZero();
      String out =
          Files.readString(
              java.nio.file.Path.of("target", "engine-process-refused-" + missing + ".log"));
      assertThat(out).contains(missing).contains("production refuses to start");
      all.keySet().stream()
          .filter(k -> !k.equals(missing))
          .forEach(k -> assertThat(out).doesNotContain(k + " ("));
      jar.close();
    }
  }
}
