package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public API over real HTTP against one in-process node on embedded PostgreSQL. */
class ApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestEngine node;
  private static String platform;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
    platform = node.token("platform", Role.PLATFORM);
    createTenant("acme", "America/New_York");
    createTenant("bravo", "Europe/Berlin");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static void createTenant(String id, String tz) {
    var r =
        node.json(
            "POST",
            "/v1/tenants",
            platform,
            "{\"id\":\""
                + id
                + "\",\"name\":\""
                + id
                + " Inc\",\"timezone\":\""
                + tz
                + "\",\"monthlyBudgetCents\":100000}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  private static JsonNode body(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + r.body(), e);
    }
  }

  /** Asserts an RFC 9457 problem with the given status and type slug. */
  private static JsonNode problem(HttpResponse<String> r, int status, String slug) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode p = body(r);
    assertThat(p.get("status").asInt()).isEqualTo(status);
    assertThat(p.get("type").asText()).isEqualTo("urn:outreach:problem:" + slug);
    assertThat(p.get("title").asText()).isNotBlank();
    assertThat(p.get("detail").asText()).isNotBlank();
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    return p;
  }

  // ---- tenants ----

  @Test
  void createdTenantIsReadableByItsAdmin() {
    var r = node.get("/v1/tenant", node.token("acme", Role.ADMIN));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode t = body(r);
    assertThat(t.get("id").asText()).isEqualTo("acme");
    assertThat(t.get("timezone").asText()).isEqualTo("America/New_York");
    assertThat(t.get("monthlyBudgetCents").asLong()).isEqualTo(100000);
    assertThat(t.get("status").asText()).isEqualTo("active");
    assertThat(t.get("createdAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
  }

  @Test
  void patchChangesSettingsAndValidates() {
    String admin = node.token("bravo", Role.ADMIN);
    var ok =
        node.json(
            "PATCH",
            "/v1/tenant",
            admin,
            "{\"monthlyBudgetCents\":2500,\"agentPolicies\":{\"gianna\":{\"enabled\":true,\"humanReview\":true,\"confidenceThreshold\":0.85}},\"flags\":{\"voice\":true}}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    JsonNode t = body(ok);
    assertThat(t.get("monthlyBudgetCents").asLong()).isEqualTo(2500);
    assertThat(t.at("/agentPolicies/gianna/enabled").asBoolean()).isTrue();
    assertThat(t.at("/flags/voice").asBoolean()).isTrue();
    assertThat(body(node.get("/v1/tenant", admin)).get("monthlyBudgetCents").asLong())
        .isEqualTo(2500);

    JsonNode p =
        problem(
            node.json(
                "PATCH",
                "/v1/tenant",
                admin,
                "{\"timezone\":\"Mars/Base\",\"monthlyBudgetCents\":-1}"),
            400,
            "validation");
    assertThat(p.get("detail").asText()).contains("Mars/Base").contains("monthlyBudgetCents");
    problem(node.json("PATCH", "/v1/tenant", admin, "{\"monthlyBudget\":5}"), 400, "validation");
    problem(
        node.json("PATCH", "/v1/tenant", admin, "{\"monthlyBudgetCents\":\"lots\"}"),
        400,
        "validation");
    problem(node.json("PATCH", "/v1/tenant", admin, "{not json"), 400, "malformed-request");
    // A policy replaces the agent's whole policy: a missing boolean is named as missing.
    assertThat(
            problem(
                    node.json(
                        "PATCH",
                        "/v1/tenant",
                        admin,
                        "{\"agentPolicies\":{\"luci\":{\"enabled\":true}}}"),
                    400,
                    "validation")
                .get("detail")
                .asText())
        .isEqualTo("field 'agentPolicies.luci.humanReview' is required");
    assertThat(
            problem(node.json("PATCH", "/v1/tenant", admin, "{\"name\":7}"), 400, "validation")
                .get("detail")
                .asText())
        .isEqualTo("field 'name' has the wrong type");
    assertThat(body(node.get("/v1/tenant", admin)).get("timezone").asText())
        .isEqualTo("Europe/Berlin");
  }

  @Test
  void createValidatesAndRefusesDuplicates() {
    JsonNode p =
        problem(
            node.json("POST", "/v1/tenants", platform, "{\"id\":\"X!\",\"name\":\"x\"}"),
            400,
            "validation");
    assertThat(p.get("detail").asText())
        .contains("id")
        .contains("timezone")
        .contains("monthlyBudgetCents");
    problem(
        node.json(
            "POST",
            "/v1/tenants",
            platform,
            "{\"id\":\"acme\",\"name\":\"Again\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":0}"),
        409,
        "conflict");
  }

  @Test
  void suspendAndResumeByPlatform() {
    createTenant("charlie", "UTC");
    var s =
        node.json(
            "POST", "/v1/tenants/charlie/suspend", platform, "{\"reason\":\"unpaid invoice\"}");
    assertThat(s.statusCode()).as(s.body()).isEqualTo(200);
    assertThat(body(s).get("status").asText()).isEqualTo("suspended");
    var r = node.json("POST", "/v1/tenants/charlie/resume", platform, null);
    assertThat(body(r).get("status").asText()).isEqualTo("active");
    problem(
        node.json("POST", "/v1/tenants/charlie/suspend", node.token("charlie", Role.ADMIN), "{}"),
        403,
        "forbidden");
  }

  // ---- audit ----

  @Test
  void auditTrailShowsOnlyTheCallersTenantNewestFirstAndPages() {
    String admin = node.token("acme", Role.ADMIN);
    assertThat(node.json("PATCH", "/v1/tenant", admin, "{\"name\":\"Acme Audited\"}").statusCode())
        .isEqualTo(200);
    String viewer = node.token("acme", Role.VIEWER);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              JsonNode items = body(node.get("/v1/audit", viewer)).get("items");
              List<String> actions = new java.util.ArrayList<>();
              items.forEach(i -> actions.add(i.get("action").asText()));
              assertThat(actions).contains("tenant.created", "tenant.settings-updated");
            });
    JsonNode all = body(node.get("/v1/audit", viewer)).get("items");
    all.forEach(i -> assertThat(i.get("subject").asText()).isEqualTo("acme"));
    assertThat(all.get(0).get("id").asLong())
        .isGreaterThan(all.get(all.size() - 1).get("id").asLong());
    assertThat(all.get(all.size() - 1).get("action").asText()).isEqualTo("tenant.created");
    assertThat(all.get(all.size() - 1).get("actor").asText()).isEqualTo("test");
    assertThat(all.get(all.size() - 1).at("/detail/timezone").asText())
        .isEqualTo("America/New_York");

    JsonNode first = body(node.get("/v1/audit?limit=1", viewer));
    assertThat(first.get("items")).hasSize(1);
    String next = first.get("next").asText();
    JsonNode second = body(node.get("/v1/audit?limit=1&cursor=" + next, viewer));
    assertThat(second.at("/items/0/id").asLong()).isLessThan(first.at("/items/0/id").asLong());

    problem(node.get("/v1/audit?limit=0", viewer), 400, "validation");
    problem(node.get("/v1/audit?limit=501", viewer), 400, "validation");
    problem(node.get("/v1/audit?cursor=bogus!", viewer), 400, "validation");
    // bravo's trail never shows acme's entries, and a foreign subject filter finds nothing.
    JsonNode foreign = body(node.get("/v1/audit?subject=acme", node.token("bravo", Role.VIEWER)));
    assertThat(foreign.get("items")).isEmpty();
    assertThat(foreign.get("next").isNull()).isTrue();
  }

  // ---- kill switches ----

  @Test
  void killSwitchesEngageListAndRelease() {
    String op = node.token("bravo", Role.OPERATOR);
    // A campaign switch names an existing campaign of the caller's tenant.
    problem(
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"campaign\",\"target\":\"cmp-9\"}"),
        400,
        "validation");
    problem(
        node.json(
            "POST",
            "/v1/kill-switches",
            op,
            "{\"scope\":\"campaign\",\"target\":\"cmp_0000000000000000\"}"),
        404,
        "not-found");
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Stop me\",\"channel\":\"sms\",\"audience\":{\"all\":true},\"message\":\"Hi\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String campaign = body(created).get("id").asText();
    String engage = "{\"scope\":\"campaign\",\"target\":\"" + campaign + "\"}";
    var engaged = node.json("POST", "/v1/kill-switches", op, engage);
    assertThat(engaged.statusCode()).as(engaged.body()).isEqualTo(201);
    String id = body(engaged).get("id").asText();
    assertThat(body(engaged).get("engagedBy").asText()).isEqualTo("test");
    // Another tenant cannot name it.
    problem(
        node.json("POST", "/v1/kill-switches", node.token("acme", Role.OPERATOR), engage),
        404,
        "not-found");
    var again = node.json("POST", "/v1/kill-switches", op, engage);
    assertThat(body(again).get("id").asText()).as("engaging twice is idempotent").isEqualTo(id);
    problem(
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"channel\",\"target\":\"fax\"}"),
        400,
        "validation");
    problem(
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"tenant\",\"target\":\"acme\"}"),
        400,
        "validation");
    problem(
        node.json("POST", "/v1/kill-switches", op, "{\"scope\":\"platform\"}"), 403, "forbidden");
    problem(
        node.json(
            "POST",
            "/v1/kill-switches",
            node.token("bravo", Role.VIEWER),
            "{\"scope\":\"tenant\"}"),
        403,
        "forbidden");

    var platformSwitch =
        node.json(
            "POST",
            "/v1/kill-switches",
            platform,
            "{\"scope\":\"platform\",\"target\":\"carrier incident\"}");
    assertThat(platformSwitch.statusCode()).as(platformSwitch.body()).isEqualTo(201);
    String platformId = body(platformSwitch).get("id").asText();

    JsonNode listed =
        body(node.get("/v1/kill-switches", node.token("bravo", Role.VIEWER))).get("items");
    List<String> ids = new java.util.ArrayList<>();
    listed.forEach(k -> ids.add(k.get("id").asText()));
    assertThat(ids).contains(id, platformId);
    JsonNode acmeListed =
        body(node.get("/v1/kill-switches", node.token("acme", Role.VIEWER))).get("items");
    acmeListed.forEach(k -> assertThat(k.get("id").asText()).isNotEqualTo(id));

    problem(node.send("DELETE", "/v1/kill-switches/" + id, op, null, null), 403, "forbidden");
    problem(
        node.send("DELETE", "/v1/kill-switches/" + id, node.token("acme", Role.ADMIN), null, null),
        404,
        "not-found");
    assertThat(
            node.send(
                    "DELETE",
                    "/v1/kill-switches/" + id,
                    node.token("bravo", Role.ADMIN),
                    null,
                    null)
                .statusCode())
        .isEqualTo(204);
    assertThat(
            node.send("DELETE", "/v1/kill-switches/" + platformId, platform, null, null)
                .statusCode())
        .isEqualTo(204);
    assertThat(body(node.get("/v1/kill-switches", op)).get("items")).isEmpty();

    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              List<String> actions = new java.util.ArrayList<>();
              body(node.get("/v1/audit", op))
                  .get("items")
                  .forEach(i -> actions.add(i.get("action").asText()));
              assertThat(actions).contains("kill-switch.engaged", "kill-switch.released");
            });
  }

  // ---- auth ----

  @Test
  void missingOrBadTokensAre401() {
    var none = node.get("/v1/tenant", null);
    problem(none, 401, "unauthorized");
    assertThat(none.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));

    Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC);
    String expired = node.auth.issue("t", "acme", Set.of(Role.ADMIN), Duration.ofHours(1), past);
    assertThat(problem(node.get("/v1/tenant", expired), 401, "unauthorized").get("detail").asText())
        .contains("expired");

    String wrongKey =
        new JwtAuth("a-completely-different-secret-value!", Duration.ZERO)
            .issue("t", "acme", Set.of(Role.ADMIN), Duration.ofHours(1), Clock.systemUTC());
    problem(node.get("/v1/tenant", wrongKey), 401, "unauthorized");

    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject("t")
            .claim("tenant", "acme")
            .claim("roles", List.of("admin"))
            .expirationTime(Date.from(Instant.now().plusSeconds(600)))
            .build();
    problem(node.get("/v1/tenant", new PlainJWT(claims).serialize()), 401, "unauthorized");
    // A token re-labelled as alg none with the valid signature stripped.
    String valid = node.token("acme", Role.ADMIN);
    String[] parts = valid.split("\\.");
    String noneHeader =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
    problem(node.get("/v1/tenant", noneHeader + "." + parts[1] + "."), 401, "unauthorized");
    problem(node.get("/v1/tenant", "not-a-jwt"), 401, "unauthorized");
  }

  @Test
  void wrongRoleIs403() throws Exception {
    problem(node.get("/v1/tenant", node.token("acme", Role.VIEWER)), 403, "forbidden");
    problem(node.get("/v1/tenant", node.token("acme", Role.OPERATOR)), 403, "forbidden");
    problem(
        node.json(
            "POST",
            "/v1/tenants",
            node.token("acme", Role.ADMIN),
            "{\"id\":\"evil\",\"name\":\"x\",\"timezone\":\"UTC\",\"monthlyBudgetCents\":0}"),
        403,
        "forbidden");
    // A platform token is not an admin of any tenant.
    problem(node.get("/v1/tenant", platform), 403, "forbidden");
    // HS512 with the right secret is still refused: only HS256 is accepted.
    SignedJWT hs512 =
        new SignedJWT(
            new JWSHeader(JWSAlgorithm.HS512),
            new JWTClaimsSet.Builder()
                .subject("t")
                .claim("tenant", "acme")
                .claim("roles", List.of("admin"))
                .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                .build());
    hs512.sign(
        new MACSigner((TestEngine.SECRET + TestEngine.SECRET).getBytes(StandardCharsets.UTF_8)));
    problem(node.get("/v1/tenant", hs512.serialize()), 401, "unauthorized");
  }

  @Test
  void anotherTenantsResourceIs404LikeAnUnknownOne() {
    String bravoAdmin = node.token("bravo", Role.ADMIN);
    JsonNode foreign = problem(node.get("/v1/tenants/acme", bravoAdmin), 404, "not-found");
    JsonNode unknown = problem(node.get("/v1/tenants/zulu", bravoAdmin), 404, "not-found");
    assertThat(foreign.get("title")).isEqualTo(unknown.get("title"));
    assertThat(node.get("/v1/tenants/bravo", bravoAdmin).statusCode()).isEqualTo(200);
    assertThat(node.get("/v1/tenants/acme", platform).statusCode()).isEqualTo(200);
    // A token for a tenant that was never created sees nothing either.
    problem(node.get("/v1/tenant", node.token("ghost", Role.ADMIN)), 404, "not-found");
  }

  // ---- errors are problems ----

  @Test
  void protocolErrorsAreProblems() {
    String admin = node.token("acme", Role.ADMIN);
    String before = node.get("/v1/tenant", admin).body();
    problem(node.get("/v1/nothing-here", admin), 404, "not-found");
    var del = node.send("DELETE", "/v1/tenant", admin, null, null);
    problem(del, 405, "method-not-allowed");
    assertThat(del.headers().firstValue("Allow")).isPresent();
    problem(
        node.send("PATCH", "/v1/tenant", admin, "text/plain", "name=x"),
        415,
        "unsupported-media-type");
    String big = "{\"name\":\"" + "x".repeat(10_000) + "\"}";
    problem(node.json("PATCH", "/v1/tenant", admin, big), 413, "payload-too-large");
    assertThat(node.get("/v1/tenant", admin).body()).isEqualTo(before);
  }

  // ---- operations ----

  @Test
  void healthMetricsAndOpenApi() throws Exception {
    assertThat(node.get("/health/alive", null).statusCode()).isEqualTo(200);
    var ready = node.get("/health/ready", null);
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(body(ready).at("/checks/database").asText()).isEqualTo("ok");
    assertThat(body(ready).at("/checks/journal").asText()).isEqualTo("ok");
    assertThat(body(ready).at("/checks/cluster").asText()).isEqualTo("ok");

    node.get("/v1/tenant", node.token("acme", Role.ADMIN));
    String metrics = node.get("/metrics", null).body();
    assertThat(metrics)
        .contains(
            "http_server_requests_seconds_count{method=\"GET\",route=\"GET /v1/tenant\",status=\"200\"}")
        .contains("jvm_memory_used_bytes")
        .contains("db_pool_connections_active");

    JsonNode api = body(node.get("/openapi.json", null));
    assertThat(api.get("openapi").asText()).isEqualTo("3.1.0");
    assertThat(api.path("paths").has("/v1/tenant")).isTrue();
    // The local run serves the sandbox providers on the engine's own port, behind its tokens.
    assertThat(node.get("/sandbox/log", node.token("platform", Role.PLATFORM)).statusCode())
        .isEqualTo(200);
    assertThat(node.get("/sandbox/log", null).statusCode()).isEqualTo(401);
  }
}
