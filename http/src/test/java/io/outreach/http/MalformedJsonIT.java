package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile request bodies, generated: garbage, truncated JSON, JSON nested thousands deep, bodies
 * over the size limit, wrong types. Every write endpoint answers each with a 4xx problem (never a
 * 5xx, never a 2xx), and nothing is written.
 */
class MalformedJsonIT {
  private static final String VALID_CAMPAIGN =
      "{\"name\":\"Winter\",\"channel\":\"sms\",\"audience\":{\"importId\":\"imp_x\"},"
          + "\"message\":\"Hi {{first_name}}\",\"steps\":[{\"afterHours\":48,\"message\":\"Again\"}]}";

  /** A write endpoint and the role that may call it. */
  private record Write(String method, String path, Role role) {}

  private static final List<Write> WRITES =
      List.of(
          new Write("POST", "/v1/campaigns", Role.OPERATOR),
          new Write("POST", "/v1/dnc", Role.OPERATOR),
          new Write("POST", "/v1/kill-switches", Role.OPERATOR),
          new Write("POST", "/v1/enrichments", Role.OPERATOR),
          new Write("PATCH", "/v1/tenant", Role.ADMIN),
          new Write("PUT", "/v1/tenant/providers/twilio", Role.ADMIN),
          new Write("POST", "/v1/tenants", Role.PLATFORM));

  private static TestEngine node;
  private static String before;

  @BeforeContainer
  static void start() {
    node = TestEngine.start();
    node.tenant("fuzzed");
    // The tenant's creation reaches its audit trail a moment later: the view starts after it.
    await().atMost(Duration.ofSeconds(10)).until(() -> view().contains("tenant.created"));
    before = view();
  }

  @AfterContainer
  static void stop() {
    try {
      assertThat(view()).as("nothing was written").isEqualTo(before);
    } finally {
      node.close();
    }
  }

  @Property(tries = 300)
  void everyHostileBodyIsAProblem(@ForAll("writes") Write w, @ForAll("bodies") String body) {
    HttpResponse<String> r = node.json(w.method(), w.path(), node.token("fuzzed", w.role()), body);
    String what = w.method() + " " + w.path() + " with " + abbreviated(body);
    assertThat(r.statusCode()).as("%s: %s", what, r.body()).isBetween(400, 499);
    assertThat(r.headers().firstValue("Content-Type"))
        .as(what)
        .hasValue("application/problem+json");
    assertThat(r.body()).as(what).doesNotContain("Exception").doesNotContain("\tat ");
  }

  /**
   * A body far over the limit is still answered 413, never a connection closed under the client
   * while it sends (the server reads a declared body to its end before answering).
   */
  @Example
  void aBodyFarOverTheLimitIsAnsweredNotCutOff() {
    String body = "{\"name\":\"" + "x".repeat(512 * 1024) + "\"}";
    for (int i = 0; i < 5; i++) {
      for (Write w : WRITES) {
        HttpResponse<String> r =
            node.json(w.method(), w.path(), node.token("fuzzed", w.role()), body);
        assertThat(r.statusCode()).as(w.method() + " " + w.path()).isEqualTo(413);
        assertThat(r.body()).contains("urn:outreach:problem:payload-too-large");
      }
    }
  }

  @Provide
  Arbitrary<Write> writes() {
    return Arbitraries.of(WRITES);
  }

  @Provide
  Arbitrary<String> bodies() {
    Arbitrary<String> garbage = Arbitraries.strings().ofMinLength(1).ofMaxLength(300);
    Arbitrary<String> truncated =
        Arbitraries.integers()
            .between(1, VALID_CAMPAIGN.length() - 1)
            .map(n -> VALID_CAMPAIGN.substring(0, n));
    Arbitrary<String> nestedArrays =
        Arbitraries.integers().between(500, 20_000).map(n -> "[".repeat(n) + "]".repeat(n));
    Arbitrary<String> nestedObjects =
        Arbitraries.integers()
            .between(500, 5_000)
            .map(n -> "{\"name\":".repeat(n) + "1" + "}".repeat(n));
    Arbitrary<String> oversized =
        Arbitraries.integers()
            .between(5_000, 200_000)
            .map(n -> "{\"name\":\"" + "x".repeat(n) + "\"}");
    // (null is no wrong type: in a patch it means "unchanged", and a patch changing nothing is
    // 200.)
    Arbitrary<String> wrongTypes =
        Combinators.combine(
                Arbitraries.of("name", "channel", "message", "phones", "scope", "importId", "id"),
                Arbitraries.of("1", "true", "[]", "{}", "-1e999", "\"\\u0000\"", "\"a\\u0007b\""))
            .as((field, value) -> "{\"" + field + "\":" + value + "}");
    return Arbitraries.oneOf(
        garbage, truncated, nestedArrays, nestedObjects, oversized, wrongTypes);
  }

  private static String abbreviated(String body) {
    return body.length() <= 80 ? body : body.substring(0, 80) + "... (" + body.length() + " chars)";
  }

  /** What the tenant and the platform see: it must not change under hostile bodies. */
  private static String view() {
    StringBuilder view = new StringBuilder();
    String admin = node.token("fuzzed", Role.ADMIN);
    for (String path :
        List.of("/v1/campaigns", "/v1/kill-switches", "/v1/audit?limit=100", "/v1/tenant")) {
      HttpResponse<String> r = node.get(path, admin);
      view.append(path).append(' ').append(r.statusCode()).append(' ').append(r.body());
      view.append('\n');
    }
    return view.toString();
  }
}
