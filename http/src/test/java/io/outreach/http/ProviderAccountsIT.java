package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Each tenant's own provider accounts through the API: set (validated), listed with secrets masked,
 * removed; each tenant's webhooks verified with its own account's secret (a receipt signed with
 * another tenant's token, or with the sandbox's, is refused); and no secret in any answer or log
 * line.
 */
class ProviderAccountsIT {
  private static final String SID_A = "AC" + "a1".repeat(16);
  private static final String TOKEN_A = "token-of-acme-0123456789abcdef";
  private static final String SID_B = "AC" + "b2".repeat(16);
  private static final String TOKEN_B = "token-of-bravo-fedcba9876543210";
  private static final String SH_SECRET = "signalhouse-secret-of-acme-42";

  private static TestEngine node;
  private static String publicUrl;
  private static final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    node = TestEngine.start();
    publicUrl = "http://127.0.0.1:" + node.engine.httpPort();
    for (String t : List.of("acme", "bravo", "carol", "dave")) {
      node.tenant(t);
    }
  }

  @AfterAll
  static void stop() {
    node.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private static HttpResponse<String> put(String tenant, String provider, String body) {
    return node.json(
        "PUT", "/v1/tenant/providers/" + provider, node.token(tenant, Role.ADMIN), body);
  }

  private static int twilioStatus(String tenant, String sid, String token) {
    String path = "/webhooks/twilio/" + tenant + "/status";
    Map<String, String> params =
        new TreeMap<>(
            Map.of(
                "MessageSid", sid,
                "MessageStatus", "delivered",
                "To", "+12125550100",
                "From", "+15550100001"));
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

  @Test
  void accountsAreSetValidatedListedMaskedAndRemoved() {
    HttpResponse<String> set =
        put(
            "acme",
            "twilio",
            "{\"accountSid\":\"" + SID_A + "\",\"authToken\":\"" + TOKEN_A + "\"}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    JsonNode shown = IntakeIT.body(set);
    assertThat(shown.at("/fields/accountSid").asText()).isEqualTo(SID_A);
    assertThat(shown.at("/fields/authToken").asText()).isEqualTo("****cdef");
    assertThat(set.body()).doesNotContain(TOKEN_A);

    HttpResponse<String> list = node.get("/v1/tenant/providers", node.token("acme", Role.ADMIN));
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body()).doesNotContain(TOKEN_A);
    assertThat(IntakeIT.body(list).get("items").findValuesAsText("provider"))
        .containsExactly("twilio");
    assertThat(
            IntakeIT.body(node.get("/v1/tenant/providers", node.token("bravo", Role.ADMIN)))
                .get("items"))
        .as("another tenant's accounts are its own")
        .isEmpty();

    // Bad input: each problem named, nothing stored.
    HttpResponse<String> bad =
        put("acme", "twilio", "{\"accountSid\":\"AC12\",\"authToken\":\"short\",\"x\":1}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("accountSid", "authToken", "unknown field x");
    assertThat(put("acme", "carrier-pigeon", "{}").statusCode()).isEqualTo(404);
    assertThat(put("acme", "signalhouse", "{\"apiKey\":\"k\"}").statusCode()).isEqualTo(400);
    assertThat(
            node.json("PUT", "/v1/tenant/providers/twilio", node.token("acme", Role.OPERATOR), "{}")
                .statusCode())
        .as("role admin")
        .isEqualTo(403);
    assertThat(node.json("PUT", "/v1/tenant/providers/twilio", null, "{}").statusCode())
        .isEqualTo(401);

    HttpResponse<String> sh =
        put(
            "bravo",
            "signalhouse",
            "{\"apiKey\":\"sh-key-of-bravo\",\"webhookSecret\":\"" + SH_SECRET + "\"}");
    assertThat(sh.statusCode()).as(sh.body()).isEqualTo(200);
    assertThat(IntakeIT.body(sh).at("/fields/apiKey").asText()).isEqualTo("****ravo");
    String admin = node.token("bravo", Role.ADMIN);
    assertThat(
            node.send("DELETE", "/v1/tenant/providers/signalhouse", admin, null, null).statusCode())
        .isEqualTo(204);
    assertThat(
            node.send("DELETE", "/v1/tenant/providers/signalhouse", admin, null, null).statusCode())
        .isEqualTo(404);
    assertNoSecretLogged();
  }

  @Test
  void eachTenantsWebhooksAreVerifiedWithItsOwnAccount() {
    assertThat(
            put(
                    "carol",
                    "twilio",
                    "{\"accountSid\":\"" + SID_A + "\",\"authToken\":\"" + TOKEN_A + "\"}")
                .statusCode())
        .isEqualTo(200);
    assertThat(
            put(
                    "dave",
                    "twilio",
                    "{\"accountSid\":\"" + SID_B + "\",\"authToken\":\"" + TOKEN_B + "\"}")
                .statusCode())
        .isEqualTo(200);

    assertThat(twilioStatus("carol", "SMa1", TOKEN_A)).isEqualTo(200);
    assertThat(twilioStatus("dave", "SMb1", TOKEN_B)).isEqualTo(200);
    assertThat(twilioStatus("carol", "SMa2", TOKEN_B))
        .as("signed with the other tenant's token")
        .isEqualTo(403);
    assertThat(twilioStatus("dave", "SMb2", TOKEN_A))
        .as("signed with the other tenant's token")
        .isEqualTo(403);
    assertThat(twilioStatus("carol", "SMa3", "sandbox-twilio-auth-token"))
        .as("a tenant with its own account no longer accepts the sandbox's token")
        .isEqualTo(403);
    assertThat(twilioStatus("nobody", "SMn1", TOKEN_A)).as("an unknown tenant").isEqualTo(404);

    // SignalHouse: the tenant's webhook secret, in SignalHouse's envelope.
    assertThat(
            put(
                    "carol",
                    "signalhouse",
                    "{\"apiKey\":\"sh-key-of-acme\",\"webhookSecret\":\"" + SH_SECRET + "\"}")
                .statusCode())
        .isEqualTo(200);
    String body =
        "{\"timestamp\":"
            + System.currentTimeMillis()
            + ",\"event\":\"MESSAGE_DELIVERED\",\"identifier\":\"shm-1\",\"metaData\":{\"_id\":\"shm-1\","
            + "\"status\":\"DELIVERED\",\"recipientPhoneNumber\":\"12125550100\"}}";
    assertThat(signalHouse("carol", body, SH_SECRET)).isEqualTo(200);
    assertThat(signalHouse("carol", body, "sandbox-signalhouse-webhook-secret")).isEqualTo(403);
    assertNoSecretLogged();
  }

  private static int signalHouse(String tenant, String body, String secret) {
    String ts = Long.toString(System.currentTimeMillis());
    return node.send(
            "POST",
            "/webhooks/signalhouse/" + tenant,
            null,
            "application/json",
            HttpRequest.BodyPublishers.ofString(body),
            "X-SignalHouse-Timestamp",
            ts,
            "X-SignalHouse-Signature",
            SignalHouseSignature.sign(secret, ts, body),
            "X-SignalHouse-Delivery-Id",
            java.util.UUID.randomUUID().toString())
        .statusCode();
  }

  /** No log line of the engine (message, arguments or stack trace) holds a secret. */
  private static void assertNoSecretLogged() {
    List<ILoggingEvent> events = List.copyOf(logs.list);
    assertThat(events).as("the engine logged while the test ran").isNotEmpty();
    for (ILoggingEvent e : events) {
      String text =
          e.getFormattedMessage()
              + (e.getThrowableProxy() == null
                  ? ""
                  : ThrowableProxyUtil.asString(e.getThrowableProxy()));
      for (String secret : List.of(TOKEN_A, TOKEN_B, SH_SECRET)) {
        assertThat(text).as("log line of %s", e.getLoggerName()).doesNotContain(secret);
      }
    }
  }
}
