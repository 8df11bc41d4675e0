package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Lead intake and do-not-contact over real HTTP on embedded PostgreSQL. */
class IntakeIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Duplicates in different phone formats, invalid rows, a multi-zone area code, formulas. */
  static final String MIXED =
      "first_name,last_name,phone,email,company,state,timezone,favorite_color\r\n"
          + " Ann ,Lee,(212) 555-0100,ANN@Example.com,\"=HYPERLINK(\"\"x\"\")\",,,blue\r\n"
          + "Ann2,,+1 212-555-0100,,Acme,,,\r\n"
          + "Bob,Stone,212.555.0101,,,FL,America/Chicago,\r\n"
          + "Cy,,12,,,,,\r\n"
          + "Di,,,not-an-email,,,,\r\n"
          + "Ed,,,ed@example.com,,,,\r\n"
          + "Ed2,Ward,,ED@example.com,,,,\r\n"
          + "\"Fay, Jr\",,(907) 555-0100,,,,,\"green\nand gold\"\r\n"
          + "too,few\r\n"
          + "\r\n"
          + "Gus,,2125550100,,,,,\r\n";

  private static TestEngine node;
  private static String platform;

  /** Each tenant's stored uploads here: small, so that a test can pass it. */
  private static final long UPLOAD_QUOTA = 1L << 20;

  @BeforeAll
  static void start() throws java.io.IOException {
    node =
        TestEngine.start(
            java.nio.file.Files.createTempDirectory("intake-it-"),
            Map.of("outreach.intake.upload-quota", UPLOAD_QUOTA));
    platform = node.token("platform", Role.PLATFORM);
    for (String t : List.of("acme", "bravo", "delta")) {
      var r =
          node.json(
              "POST",
              "/v1/tenants",
              platform,
              "{\"id\":\""
                  + t
                  + "\",\"name\":\""
                  + t
                  + "\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000000}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static JsonNode body(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + r.body(), e);
    }
  }

  /** Uploads and waits until the import is no longer running. */
  static JsonNode importAndWait(TestEngine node, String token, String csv, String... headers) {
    var r = node.csv("/v1/imports", token, csv, headers);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 202);
    String id = body(r).get("id").asText();
    return awaitImport(node, token, id);
  }

  static JsonNode awaitImport(TestEngine node, String token, String id) {
    JsonNode[] last = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              last[0] = body(node.get("/v1/imports/" + id, token));
              return !last[0].get("status").asText().equals("running");
            });
    return last[0];
  }

  static Map<String, JsonNode> leadsByFirstName(TestEngine node, String token) {
    Map<String, JsonNode> out = new HashMap<>();
    String cursor = null;
    do {
      JsonNode page =
          body(node.get("/v1/leads?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), token));
      page.get("items").forEach(l -> out.put(l.get("firstName").asText(), l));
      cursor = page.get("next").isNull() ? null : page.get("next").asText();
    } while (cursor != null);
    return out;
  }

  @Test
  void mixedFileGivesExactCountsAndNormalizedLeads() {
    String op = node.token("acme", Role.OPERATOR);
    JsonNode imp = importAndWait(node, op, MIXED);
    assertThat(imp.get("status").asText()).as(imp.toString()).isEqualTo("completed");
    assertThat(imp.get("rows").asLong()).isEqualTo(10);
    assertThat(imp.get("accepted").asLong()).isEqualTo(4);
    assertThat(imp.get("duplicates").asLong()).isEqualTo(3);
    assertThat(imp.get("rejected").asLong()).isEqualTo(3);
    List<String> errors = new ArrayList<>();
    imp.get("errors")
        .forEach(e -> errors.add(e.get("row").asLong() + ":" + e.get("field").asText()));
    assertThat(errors).containsExactly("4:phone", "5:email", "9:null");

    Map<String, JsonNode> leads = leadsByFirstName(node, node.token("acme", Role.VIEWER));
    assertThat(leads).containsOnlyKeys("Ann", "Bob", "Ed", "Fay, Jr");
    JsonNode ann = leads.get("Ann");
    assertThat(ann.get("phone").asText()).isEqualTo("+12125550100");
    assertThat(ann.get("email").asText()).isEqualTo("ann@example.com");
    assertThat(ann.get("company").asText()).isEqualTo("=HYPERLINK(\"x\")");
    assertThat(ann.get("state").asText()).isEqualTo("NY");
    assertThat(ann.at("/attributes/favorite_color").asText()).isEqualTo("blue");
    assertThat(ann.get("importId").asText()).isEqualTo(imp.get("id").asText());
    JsonNode bob = leads.get("Bob");
    assertThat(bob.get("state").asText()).isEqualTo("FL");
    assertThat(bob.get("timezones").toString()).isEqualTo("[\"America/Chicago\"]");
    assertThat(leads.get("Ed").get("lastName").asText())
        .as("a later duplicate fills empty fields")
        .isEqualTo("Ward");
    assertThat(leads.get("Ed").get("phone").isNull()).isTrue();
    JsonNode fay = leads.get("Fay, Jr");
    assertThat(fay.get("timezones").size())
        .as("an area code spanning zones keeps them all")
        .isGreaterThan(1);
    assertThat(fay.at("/attributes/favorite_color").asText()).isEqualTo("green\nand gold");

    // A second file: one number already known (fills an empty field), one new.
    JsonNode second =
        importAndWait(node, op, "phone,zip\n(212) 555-0100,10001\n(415) 867-5309,94103\n");
    assertThat(second.get("rows").asLong()).isEqualTo(2);
    assertThat(second.get("accepted").asLong()).isEqualTo(1);
    assertThat(second.get("duplicates").asLong()).isEqualTo(1);
    String annId = ann.get("id").asText();
    JsonNode annAgain = body(node.get("/v1/leads/" + annId, op));
    assertThat(annAgain.get("zip").asText()).isEqualTo("10001");
    assertThat(annAgain.get("firstName").asText()).as("the first row wins").isEqualTo("Ann");
  }

  @Test
  void sameContentAndIdempotencyKeyAnswerTheExistingImport() {
    String op = node.token("delta", Role.OPERATOR);
    String csv = "phone\n(305) 555-0100\n";
    var first = node.csv("/v1/imports", op, csv, "Idempotency-Key", "batch-7");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
    String id = body(first).get("id").asText();
    awaitImport(node, op, id);
    var again = node.csv("/v1/imports", op, csv);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(body(again).get("id").asText()).isEqualTo(id);
    var sameKey =
        node.csv("/v1/imports", op, "phone\n(305) 555-0101\n", "Idempotency-Key", "batch-7");
    assertThat(sameKey.statusCode()).isEqualTo(200);
    assertThat(body(sameKey).get("id").asText()).isEqualTo(id);
    assertThat(body(node.get("/v1/leads", op)).get("items")).hasSize(1);
  }

  @Test
  void tenantsImportingTheSameFileSeeOnlyTheirOwnLeads() {
    String bravo = node.token("bravo", Role.OPERATOR);
    JsonNode imp = importAndWait(node, bravo, MIXED);
    assertThat(imp.get("accepted").asLong()).isEqualTo(4);
    Map<String, JsonNode> bravoLeads = leadsByFirstName(node, bravo);
    assertThat(bravoLeads).hasSize(4);
    String acme = node.token("acme", Role.OPERATOR);
    importAndWait(node, acme, MIXED);
    for (JsonNode lead : leadsByFirstName(node, acme).values()) {
      assertThat(bravoLeads.values()).noneMatch(b -> b.get("id").equals(lead.get("id")));
      assertThat(node.get("/v1/leads/" + lead.get("id").asText(), bravo).statusCode())
          .isEqualTo(404);
    }
    assertThat(node.get("/v1/imports/" + imp.get("id").asText(), acme).statusCode()).isEqualTo(404);
  }

  /**
   * An upload that would take the tenant's stored uploads past its quota gets 413 naming the quota,
   * and nothing of it is kept; another tenant uploads as before.
   */
  @Test
  void anUploadPastTheTenantsQuotaIsRefusedNamingItAndKeepsNothing() throws Exception {
    String op = node.tenant("quota");
    StringBuilder list = new StringBuilder("first_name,phone\n");
    for (int i = 0; list.length() < UPLOAD_QUOTA * 7 / 10; i++) {
      list.append("P").append(i).append(",+1212").append(3_000_000 + i).append('\n');
    }
    JsonNode first = importAndWait(node, op, list.toString());
    assertThat(first.get("status").asText()).isEqualTo("completed");

    var refused = node.csv("/v1/imports", op, list.toString().replace(",+1212", ",+1646"));

    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(body(refused).get("detail").asText())
        .contains("quota of " + UPLOAD_QUOTA + " bytes")
        .contains("outreach.intake.upload-quota");
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(DatabaseOutageIT.superuserUrl(node, "outreach"));
        java.sql.ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "select count(*), count(import_id) from uploads where tenant_id = 'quota'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("uploads kept: the first one only").isEqualTo(1);
      assertThat(rs.getLong(2)).isEqualTo(1);
    }
    JsonNode other =
        importAndWait(node, node.tenant("quota-other"), "first_name,phone\nQ,+12125550177\n");
    assertThat(other.get("status").asText()).isEqualTo("completed");
  }

  @Test
  void badUploadsAreRefusedAndStoreNothing() {
    String op = node.token("bravo", Role.OPERATOR);
    var noPhone = node.csv("/v1/imports", op, "first_name,company\nAnn,Acme\n");
    assertThat(noPhone.statusCode()).isEqualTo(400);
    assertThat(body(noPhone).get("detail").asText()).contains("phone").contains("email");
    var json = node.send("POST", "/v1/imports", op, "application/json", "{}");
    assertThat(json.statusCode()).isEqualTo(415);
    // Refused on its declared length, before any of the body is read: a client that waits for
    // 100-continue (as curl does for a large upload) gets the 413 without sending the body.
    java.util.List<String> answer =
        node.answerToHead(
            "POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + op
                + "\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\nContent-Length: "
                + (TestEngine.MAX_UPLOAD_BYTES + 1)
                + "\r\n\r\n");
    assertThat(answer).first().asString().startsWith("HTTP/1.1 413 ");
    assertThat(answer)
        .anySatisfy(
            h -> assertThat(h).isEqualToIgnoringCase("Content-Type: application/problem+json"));
    var empty = node.csv("/v1/imports", op, "");
    assertThat(empty.statusCode()).isEqualTo(400);
    // A header beyond the column limit: refused naming the limit, not echoed back.
    var wide = node.csv("/v1/imports", op, "phone," + "col,".repeat(600) + "\n2125550100\n");
    assertThat(wide.statusCode()).isEqualTo(400);
    assertThat(body(wide).get("detail").asText())
        .contains("more than 500 columns (the limit)")
        .hasSizeLessThan(200);
    assertThat(node.get("/v1/imports/imp_doesnotexist", op).statusCode()).isEqualTo(404);
    assertThat(node.csv("/v1/imports", node.token("bravo", Role.VIEWER), MIXED).statusCode())
        .isEqualTo(403);
  }

  /**
   * Slow uploads hold threads of the uploads' own pool, at most two per tenant: a third of the same
   * tenant is refused (429 with Retry-After) at once, another tenant's still goes, API reads are
   * not held up, and once the slow ones end the tenant may upload again.
   */
  @Test
  void aTenantsSlowUploadsAreCappedAndStarveNoOne() throws Exception {
    String op = node.tenant("slow-uploads");
    String head =
        "POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + op
            + "\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
            + "phone,first_name\n2125550100,Ann\n";
    List<java.net.Socket> slow = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        java.net.Socket socket = new java.net.Socket("127.0.0.1", node.engine.httpPort());
        socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        slow.add(socket);
      }
      // Both are under way (their headers read); a third of the tenant is refused at once.
      await()
          .atMost(java.time.Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                var third = node.csv("/v1/imports", op, MIXED);
                assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
                assertThat(third.headers().firstValue("Retry-After")).hasValue("5");
                assertThat(body(third).get("detail").asText()).contains("at most 2 uploads");
              });
      String other = node.tenant("other-uploads");
      var elsewhere = node.csv("/v1/imports", other, "phone\n2125550177\n");
      assertThat(elsewhere.statusCode()).as(elsewhere.body()).isIn(200, 202);
      assertThat(node.get("/v1/leads", op).statusCode()).isEqualTo(200);
    } finally {
      for (java.net.Socket s : slow) {
        s.close();
      }
    }
    // The abandoned uploads end (their streams fail); the tenant may upload again.
    await()
        .atMost(java.time.Duration.ofSeconds(90))
        .until(() -> List.of(200, 202).contains(node.csv("/v1/imports", op, MIXED).statusCode()));
  }

  @Test
  void doNotContactListsAndErasure() {
    String admin = node.token("delta", Role.ADMIN);
    var bad = node.json("POST", "/v1/dnc", admin, "{\"phones\":[\"(212) 555-0199\",\"bogus\"]}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(body(bad).get("detail").asText()).contains("bogus");
    var ok =
        node.json(
            "POST", "/v1/dnc", admin, "{\"phones\":[\"(212) 555-0199\"],\"reason\":\"asked\"}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(body(ok).get("added").asInt()).isEqualTo(1);
    assertThat(body(node.get("/v1/dnc/+12125550199", admin)).get("reason").asText())
        .isEqualTo("asked");
    assertThat(node.get("/v1/dnc/+12125550199", node.token("acme", Role.ADMIN)).statusCode())
        .isEqualTo(404);
    assertThat(node.send("DELETE", "/v1/dnc/+12125550199", admin, null, null).statusCode())
        .isEqualTo(204);
    assertThat(node.get("/v1/dnc/+12125550199", admin).statusCode()).isEqualTo(404);

    // The national copy is shared by every tenant and only platform may load it.
    assertThat(
            node.send("POST", "/v1/dnc/national?asOf=2026-11-01", admin, "text/csv", "phone\n")
                .statusCode())
        .isEqualTo(403);
    var national =
        node.send(
            "POST",
            "/v1/dnc/national?asOf=2026-11-01",
            platform,
            "text/csv",
            "phone\n(850) 555-1234\n12\n");
    assertThat(national.statusCode()).as(national.body()).isEqualTo(200);
    assertThat(body(national).get("numbers").asLong()).isEqualTo(1);
    assertThat(body(national).get("rejected").asLong()).isEqualTo(1);
    JsonNode listed = body(node.get("/v1/dnc/+18505551234", node.token("acme", Role.VIEWER)));
    assertThat(listed.get("source").asText()).isEqualTo("national");

    // Erasure removes the lead and keeps its number suppressed, for good.
    String op = node.token("delta", Role.OPERATOR);
    importAndWait(node, op, "first_name,phone\nZed,(606) 555-1234\n");
    String zed = leadsByFirstName(node, op).get("Zed").get("id").asText();
    assertThat(node.send("DELETE", "/v1/leads/" + zed, op, null, null).statusCode()).isEqualTo(403);
    assertThat(node.send("DELETE", "/v1/leads/" + zed, admin, null, null).statusCode())
        .isEqualTo(204);
    assertThat(node.get("/v1/leads/" + zed, admin).statusCode()).isEqualTo(404);
    // The stored upload Zed came in is deleted with him (the audit says how many went).
    JsonNode erased = body(node.get("/v1/audit?limit=100", admin));
    JsonNode entry = null;
    for (JsonNode e : erased.get("items")) {
      if (e.get("action").asText().equals("lead.erased")) {
        entry = e;
      }
    }
    assertThat(entry).as("the erasure in the audit trail").isNotNull();
    assertThat(entry.at("/detail/uploadsDeleted").asInt()).isGreaterThanOrEqualTo(1);
    assertThat(body(node.get("/v1/dnc/+16065551234", admin)).get("source").asText())
        .isEqualTo("erasure");
    assertThat(node.send("DELETE", "/v1/dnc/+16065551234", admin, null, null).statusCode())
        .isEqualTo(409);
  }
}
