package io.outreach.http.sandbox;

import static io.outreach.http.sandbox.SandboxClient.parse;
import static io.outreach.http.sandbox.SandboxClient.token;
import static io.outreach.http.sandbox.TwinFixture.accepted;
import static io.outreach.http.sandbox.TwinFixture.join;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.http.JwtAuth;
import io.outreach.http.Role;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the sandbox lets callers do, being served on the engine's port in sandbox mode: its log,
 * faults and replies need the engine's tokens (a tenant's sees and scripts only its own tenant, a
 * platform token any), the log is bounded, and the twins post callbacks only under the engine's
 * URL.
 */
class SandboxAccessIT {
  private static TwinFixture sandbox;

  @BeforeAll
  static void start() {
    sandbox = TwinFixture.start("sandbox-access-it", SandboxSettings.DEFAULTS);
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  private static String tenant() {
    return "ac-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Sends one Twilio message for {@code tenant} (its tenant is its callback's). */
  private static void sendFor(String tenant) {
    accepted(
        sandbox
            .twilio()
            .send(
                new SmsRequest(
                    tenant,
                    "+15550100001",
                    "+12125550123",
                    "hi",
                    "k-" + UUID.randomUUID(),
                    sandbox.engine.base() + "/webhooks/twilio/" + tenant + "/status")));
  }

  private static void assertProblem(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
  }

  @Test
  void theLogNeedsATokenAndATenantsTokenReadsOnlyItsOwnEntries() {
    String a = tenant();
    String b = tenant();
    sendFor(a);
    sendFor(b);
    sendFor(b);

    assertProblem(sandbox.client.call("GET", "/sandbox/log", null, null), 401);
    assertProblem(sandbox.client.call("GET", "/sandbox/log", "not-a-jwt", null), 401);
    String otherSecret =
        new JwtAuth("another-secret-of-at-least-thirty-two-bytes", Duration.ZERO)
            .issue(
                "x", "platform", Set.of(Role.PLATFORM), Duration.ofMinutes(5), Clock.systemUTC());
    assertProblem(sandbox.client.call("GET", "/sandbox/log", otherSecret, null), 401);

    String viewerOfA = token(a, Role.VIEWER);
    JsonNode own = parse(sandbox.client.call("GET", "/sandbox/log", viewerOfA, null).body());
    assertThat(own).hasSize(1).allMatch(e -> e.get("tenant").asText().equals(a));
    assertThat(
            parse(sandbox.client.call("GET", "/sandbox/log?tenant=" + a, viewerOfA, null).body()))
        .isEqualTo(own);
    assertProblem(sandbox.client.call("GET", "/sandbox/log?tenant=" + b, viewerOfA, null), 403);

    String platform = SandboxClient.platform();
    assertThat(parse(sandbox.client.call("GET", "/sandbox/log?tenant=" + b, platform, null).body()))
        .hasSize(2);
    JsonNode all = parse(sandbox.client.call("GET", "/sandbox/log", platform, null).body());
    assertThat(all.findValuesAsText("tenant")).contains(a, b);
  }

  @Test
  void faultsNeedAPlatformToken() {
    String admin = token(tenant(), Role.ADMIN);
    assertProblem(sandbox.client.call("PUT", "/sandbox/faults", admin, "{\"outage\":true}"), 403);
    assertProblem(sandbox.client.call("GET", "/sandbox/faults", admin, null), 403);
    assertProblem(sandbox.client.call("PUT", "/sandbox/faults", null, "{\"outage\":true}"), 401);
    assertThat(sandbox.client.get("/sandbox/faults").get("outage").asBoolean()).isFalse();
  }

  @Test
  void repliesNeedATokenOfTheirTenantOrThePlatform() {
    String a = tenant();
    String reply =
        "{\"tenant\":\""
            + a
            + "\",\"from\":\"+12125550123\",\"to\":\"+15550100001\",\"body\":\"hi\"}";
    assertProblem(sandbox.client.call("POST", "/sandbox/replies", null, reply), 401);
    assertProblem(
        sandbox.client.call("POST", "/sandbox/replies", token(tenant(), Role.ADMIN), reply), 403);
    assertThat(sandbox.engine.calls("/webhooks/twilio/" + a + "/sms")).isEmpty();

    assertThat(sandbox.client.reply(a, reply).statusCode()).isEqualTo(200);
    assertThat(
            sandbox
                .client
                .call("POST", "/sandbox/replies", SandboxClient.platform(), reply)
                .statusCode())
        .isEqualTo(200);
    assertThat(sandbox.engine.calls("/webhooks/twilio/" + a + "/sms")).hasSize(2);
  }

  @Test
  void callbacksOutsideTheEngineAreRefusedAndNothingIsTaken() {
    String tenant = tenant();
    long refusedBefore = sandbox.answered("twilio", 400);
    String elsewhere = "http://127.0.0.2:9/webhooks/twilio/" + tenant + "/status";
    SendResult twilio =
        join(
            sandbox
                .twilio()
                .send(
                    new SmsRequest(
                        tenant, "+15550100001", "+12125550123", "hi", "x-1", elsewhere)));
    assertThat(twilio)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(400);
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).isEqualTo("error 21609: Invalid 'StatusCallback'");
            });
    SendResult signalHouse =
        join(
            sandbox
                .signalHouse()
                .send(
                    new SmsRequest(
                        tenant,
                        "+15550100001",
                        "+12125550123",
                        "hi",
                        "x-2",
                        "https://evil.example/webhooks/signalhouse/" + tenant)));
    assertThat(signalHouse)
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(400);
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).contains("statusCallbackUrl");
            });
    assertThat(sandbox.client.log(tenant, 0)).isEmpty();
    assertThat(sandbox.answered("twilio", 400)).isEqualTo(refusedBefore + 1);
  }

  @Test
  void theLogKeepsOnlyItsNewestEntries() {
    try (TwinFixture small =
        TwinFixture.beside(sandbox, SandboxSettings.DEFAULTS.withLogLimit(5))) {
      String tenant = tenant();
      for (int i = 0; i < 8; i++) {
        accepted(
            small
                .twilio()
                .send(
                    new SmsRequest(
                        tenant, "+15550100001", "+1212555020" + i, "m" + i, "b-" + i, null)));
      }
      JsonNode log = small.client.get("/sandbox/log");
      assertThat(log.findValuesAsText("body")).containsExactly("m3", "m4", "m5", "m6", "m7");
      assertThat(log.get(0).get("id").asLong()).isEqualTo(4);
    }
  }

  @Test
  void aMessageWithoutACallbackBelongsToNoTenant() {
    String tenant = tenant();
    accepted(
        sandbox
            .signalHouse()
            .send(new SmsRequest(tenant, "+15550100001", "+12125550199", "bare", "n-1", null)));
    assertThat(sandbox.client.log(tenant, 0)).isEmpty();
    List<String> bodies = sandbox.client.get("/sandbox/log").findValuesAsText("body");
    assertThat(bodies).contains("bare");
  }
}
