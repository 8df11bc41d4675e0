package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Abuse across tenants, driven by the published contract: every operation of {@code /openapi.json}
 * that names a resource (an id, a phone, a tenant) is called with another tenant's real ids, as
 * each role of the intruding tenant, and with hostile ids (path traversal, SQL metacharacters,
 * markup). Each answers a 4xx problem, shows none of the victim's data, and writes nothing the
 * victim can see.
 */
class AbuseIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PARAM = Pattern.compile("\\{([^}]+)}");
  private static final List<Role> ROLES = List.of(Role.ADMIN, Role.OPERATOR, Role.VIEWER);
  private static final List<String> HOSTILE =
      List.of(
          "..%2F..%2Fv1%2Ftenant",
          "%2e%2e",
          "x'%20or%20'1'%3D'1",
          "1%3Bdrop%20table%20leads",
          "%3Cscript%3E",
          "%00",
          "a".repeat(600));

  private static TestEngine node;
  private static String victimAdmin;
  // The victim's resources, by the name of the path parameter and the path's first segments.
  private static final Map<String, String> victim = new LinkedHashMap<>();

  @BeforeAll
  static void start() {
    node = TestEngine.start();
    node.tenant("victim");
    node.tenant("intruder");
    victimAdmin = node.token("victim", Role.ADMIN);
    String op = node.token("victim", Role.OPERATOR);
    StringBuilder csv = new StringBuilder("first_name,phone,email\n");
    for (int i = 0; i < 20; i++) {
      csv.append("Victoria").append(i).append(',').append(CampaignLifecycleIT.phone(212, i));
      csv.append(",victoria").append(i).append("@victim.example\n");
    }
    String importId = IntakeIT.importAndWait(node, op, csv.toString()).get("id").asText();
    victim.put("/v1/imports", importId);
    victim.put(
        "/v1/leads", IntakeIT.body(node.get("/v1/leads?limit=1", op)).at("/items/0/id").asText());
    String phone = CampaignLifecycleIT.phone(212, 0);
    victim.put("/v1/conversations", phone);
    assertThat(node.json("POST", "/v1/dnc", op, "{\"phones\":[\"" + phone + "\"]}").statusCode())
        .isBetween(200, 299);
    victim.put("/v1/dnc", phone);
    var campaign =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Victim's\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + importId
                + "\"},\"message\":\"Hi {{first_name}}\"}");
    assertThat(campaign.statusCode()).as(campaign.body()).isEqualTo(201);
    String campaignId = IntakeIT.body(campaign).get("id").asText();
    victim.put("/v1/campaigns", campaignId);
    var kill =
        node.json(
            "POST",
            "/v1/kill-switches",
            op,
            "{\"scope\":\"campaign\",\"target\":\"" + campaignId + "\"}");
    assertThat(kill.statusCode()).as(kill.body()).isBetween(200, 299);
    victim.put("/v1/kill-switches", IntakeIT.body(kill).get("id").asText());
    // Twenty leads cost more than the default approval threshold: the job waits for review.
    node.settings(
        "victim",
        "{\"agentPolicies\":{\"luci\":{\"enabled\":true,\"humanReview\":true,\"spendApprovalCents\":100}}}");
    var enrichment =
        node.json("POST", "/v1/enrichments", op, "{\"importId\":\"" + importId + "\"}");
    assertThat(enrichment.statusCode()).as(enrichment.body()).isEqualTo(202);
    victim.put("/v1/enrichments", IntakeIT.body(enrichment).get("id").asText());
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> IntakeIT.body(node.get("/v1/reviews", op)).path("items").size() > 0);
    victim.put(
        "/v1/reviews", IntakeIT.body(node.get("/v1/reviews", op)).at("/items/0/id").asText());
    victim.put("/v1/tenants", "victim");
    victim.put("/webhooks", "victim");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void everyOperationOnAnotherTenantsIdsAnswersAProblemLeaksNothingAndWritesNothing()
      throws Exception {
    String before = victimView();
    List<String> calls = new ArrayList<>();
    for (Operation o : operations()) {
      String path = o.path();
      String id = victimId(path);
      if (id == null) {
        continue;
      }
      String url = PARAM.matcher(path).replaceAll(Matcher.quoteReplacement(id));
      for (Role role : ROLES) {
        HttpResponse<String> r = call(o.method(), url, node.token("intruder", role));
        calls.add(o.method() + " " + url + " as " + role + " -> " + r.statusCode());
        assertProblem(r, o.method() + " " + url + " as intruder " + role);
      }
    }
    assertThat(calls).as("the contract's operations on ids").hasSizeGreaterThan(60);
    assertThat(victimView()).as("the victim's data after the intruder's calls").isEqualTo(before);
  }

  @Test
  void hostileIdsAnswerAProblemNeverAFailure() throws Exception {
    String before = victimView();
    String admin = node.token("intruder", Role.ADMIN);
    int n = 0;
    for (Operation o : operations()) {
      if (victimId(o.path()) == null) {
        continue;
      }
      for (String hostile : HOSTILE) {
        String url = PARAM.matcher(o.path()).replaceAll(Matcher.quoteReplacement(hostile));
        HttpResponse<String> r = call(o.method(), url, admin);
        assertThat(r.statusCode()).as("%s %s: %s", o.method(), url, r.body()).isBetween(400, 499);
        n++;
      }
    }
    assertThat(n).isGreaterThan(100);
    assertThat(victimView()).isEqualTo(before);
  }

  /**
   * Every webhook route of the contract refuses a request without a signature, with a forged one
   * (each provider's header) or for a tenant that does not exist: 403 or 404 problems, nothing
   * stored (a reply from the victim's number would show in its conversation and opt it out).
   */
  @Test
  void everyWebhookRouteRefusesMissingAndForgedSignaturesAndStoresNothing() throws Exception {
    String before = victimView();
    String phone = victim.get("/v1/conversations");
    String conversation = node.get("/v1/conversations/" + phone, victimAdmin).body();
    String form =
        "MessageSid=SMforged0000000000000000000000001&AccountSid=ACforged&From="
            + java.net.URLEncoder.encode(phone, java.nio.charset.StandardCharsets.UTF_8)
            + "&To=%2B15550100001&Body=STOP&MessageStatus=delivered&CallSid=CAforged&CallStatus=completed&Digits=9";
    String json =
        "{\"type\":\"message.received\",\"id\":\"evt_forged\",\"from\":\""
            + phone
            + "\",\"to\":\"+15550100001\",\"body\":\"STOP\"}";
    List<String> routes = new ArrayList<>();
    for (Operation o : operations()) {
      if (!o.path().startsWith("/webhooks/")) {
        continue;
      }
      routes.add(o.path());
      boolean twilio = o.path().startsWith("/webhooks/twilio/");
      String type = twilio ? "application/x-www-form-urlencoded" : "application/json";
      String body = twilio ? form : json;
      String header = twilio ? "X-Twilio-Signature" : "X-SignalHouse-Signature";
      for (String tenant : List.of("victim", "no-such-tenant")) {
        String url = PARAM.matcher(o.path()).replaceAll(tenant);
        List<HttpResponse<String>> answers =
            List.of(
                node.send("POST", url, null, type, HttpRequest.BodyPublishers.ofString(body)),
                node.send(
                    "POST",
                    url,
                    null,
                    type,
                    HttpRequest.BodyPublishers.ofString(body),
                    header,
                    "bm90IGEgc2lnbmF0dXJl"));
        for (HttpResponse<String> r : answers) {
          assertProblem(r, "POST " + url);
          assertThat(r.statusCode()).as("POST %s: %s", url, r.body()).isIn(403, 404);
        }
      }
    }
    assertThat(routes)
        .as("the contract's webhook routes")
        .contains(
            "/webhooks/twilio/{tenantId}/sms",
            "/webhooks/twilio/{tenantId}/status",
            "/webhooks/twilio/{tenantId}/call-status",
            "/webhooks/twilio/{tenantId}/gather",
            "/webhooks/signalhouse/{tenantId}");
    assertThat(node.get("/v1/conversations/" + phone, victimAdmin).body())
        .as("no forged reply reached the victim's conversation")
        .isEqualTo(conversation);
    assertThat(victimView()).isEqualTo(before);
  }

  /**
   * SQL metacharacters and spreadsheet formulas in every field of an upload are data: stored and
   * answered exactly as given (the API answers JSON, never a spreadsheet; a name like "-" or "+1"
   * is a value, so nothing is rewritten), and the tables they name are untouched.
   */
  @Test
  void sqlMetacharactersAndFormulasInFieldsAreStoredAsData() {
    node.tenant("quoter");
    String op = node.token("quoter", Role.OPERATOR);
    List<String> hostile =
        List.of(
            "Robert'); drop table leads;--",
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1+1)",
            "x\\'; select pg_sleep(10);--",
            "%' or '1'='1");
    StringBuilder csv = new StringBuilder("first_name,company,phone\n");
    for (int i = 0; i < hostile.size(); i++) {
      String v = hostile.get(i).replace("\"", "\"\"");
      csv.append('"').append(v).append("\",\"").append(v).append("\",");
      csv.append(CampaignLifecycleIT.phone(646, i)).append('\n');
    }
    JsonNode imported = IntakeIT.importAndWait(node, op, csv.toString());
    assertThat(imported.get("status").asText()).as(imported.toString()).isEqualTo("completed");
    List<String> names = new ArrayList<>();
    IntakeIT.body(node.get("/v1/leads?limit=100", op))
        .get("items")
        .forEach(l -> names.add(l.get("firstName").asText()));
    assertThat(names).containsExactlyInAnyOrderElementsOf(hostile);
    assertThat(IntakeIT.body(node.get("/v1/leads?limit=100", victimAdmin)).get("items"))
        .as("the victim's leads are all there")
        .hasSize(20);
  }

  /** One operation of the contract. */
  private record Operation(String method, String path) {}

  private static List<Operation> operations() throws Exception {
    JsonNode spec = JSON.readTree(node.get("/openapi.json", null).body());
    List<Operation> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> p : spec.get("paths").properties()) {
      for (String method : List.of("get", "post", "put", "patch", "delete")) {
        if (p.getValue().has(method)) {
          out.add(new Operation(method.toUpperCase(), p.getKey()));
        }
      }
    }
    return out;
  }

  /**
   * The victim's id for the path's one resource parameter, or null for a path that names none of
   * another tenant's (the caller's own tenant, a provider name, the sandbox's test tooling).
   */
  private static String victimId(String path) {
    if (!PARAM.matcher(path).find() || path.startsWith("/sandbox/")) {
      return null;
    }
    return victim.entrySet().stream()
        .filter(e -> path.startsWith(e.getKey() + "/"))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }

  private static HttpResponse<String> call(String method, String url, String token) {
    boolean body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    return node.json(method, url, token, body ? "{}" : null);
  }

  private static void assertProblem(HttpResponse<String> r, String what) {
    assertThat(r.statusCode()).as("%s: %s", what, r.body()).isBetween(400, 499);
    assertThat(r.headers().firstValue("Content-Type"))
        .as(what)
        .hasValue("application/problem+json");
    assertThat(r.body())
        .as(what)
        .doesNotContain("Victoria")
        .doesNotContain("victim.example")
        .doesNotContain("Victim's")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  /** What the victim sees of its own data: it must not change under another tenant's calls. */
  private static String victimView() {
    StringBuilder view = new StringBuilder();
    for (String path :
        List.of(
            "/v1/campaigns/" + victim.get("/v1/campaigns"),
            "/v1/kill-switches",
            "/v1/dnc/" + victim.get("/v1/dnc"),
            "/v1/leads?limit=100",
            "/v1/imports/" + victim.get("/v1/imports"),
            "/v1/enrichments/" + victim.get("/v1/enrichments"),
            "/v1/reviews",
            "/v1/audit?limit=100",
            "/v1/tenant")) {
      HttpResponse<String> r = node.get(path, victimAdmin);
      view.append(path).append(' ').append(r.statusCode()).append(' ');
      view.append(r.body().replaceAll("\"(updatedAt|nextDueAt)\":\"[^\"]*\"", "")).append('\n');
    }
    return view.toString();
  }
}
