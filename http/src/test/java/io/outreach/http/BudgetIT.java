package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Budgets hold on the send path: four campaigns racing for one small tenant budget spend no more
 * than it and block the rest with reason {@code budget}; a campaign's own budget caps it; what a
 * finished campaign spent matches its estimate; {@code GET /v1/spend} accounts for it all, per
 * campaign, with the alerts the budget set off, and shows one tenant nothing of another's.
 */
class BudgetIT {
  /** Twilio's price per segment in the default price table, in micro-dollars. */
  private static final long SEGMENT_MICROS = 8_300;

  private static TestEngine node;

  @BeforeAll
  static void start() {
    node = TestEngine.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void fourCampaignsRacingForOneSmallBudgetNeverSpendPastIt() {
    String op = node.tenant("budget-race");
    node.settings("budget-race", "{\"monthlyBudgetCents\":100}");
    List<String> ids = new ArrayList<>();
    for (int area : new int[] {646, 917, 929, 332}) {
      ids.add(create(op, importOf(op, area, 100, "R"), ""));
    }
    List<CompletableFuture<Integer>> launches = new ArrayList<>();
    for (String id : ids) {
      launches.add(
          CompletableFuture.supplyAsync(
              () -> node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode()));
    }
    launches.forEach(l -> assertThat(l.join()).isEqualTo(202));

    long sent = 0;
    long blockedByBudget = 0;
    long spentCents = 0;
    for (String id : ids) {
      JsonNode view =
          CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofMinutes(2));
      JsonNode counts = view.get("counts");
      assertThat(
              counts.get("sent").asLong()
                  + counts.get("failed").asLong()
                  + sum(counts.get("blocked")))
          .as("recipients = sent + failed + sum(blocked) for " + id)
          .isEqualTo(100);
      sent += counts.get("sent").asLong();
      blockedByBudget += counts.at("/blocked/budget").asLong();
      spentCents += view.get("spentCents").asLong();
    }
    // 100 cents buy 120 one-segment messages at 0.83 cents: never more, whoever asked first.
    assertThat(sent).isLessThanOrEqualTo(100 * 10_000 / SEGMENT_MICROS);
    assertThat(sent).as("the budget is used, not left idle").isGreaterThanOrEqualTo(100);
    assertThat(blockedByBudget).isEqualTo(400 - sent);
    assertThat(IntakeIT.body(node.sandboxLog("budget-race")).size()).isEqualTo((int) sent);

    // The ledger hears of a block's last charges and its release just after the block is done.
    JsonNode[] read = new JsonNode[1];
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              read[0] = IntakeIT.body(node.get("/v1/spend", op));
              return read[0].get("reservedCents").asLong() == 0;
            });
    JsonNode spend = read[0];
    assertThat(spend.at("/budgets/monthly/limitCents").asLong()).isEqualTo(100);
    assertThat(spend.get("spentCents").asLong()).isLessThanOrEqualTo(100);
    assertThat(spend.get("spentCents").asLong())
        .as("sent %d, spend %s", sent, spend.get("campaigns"))
        .isEqualTo((sent * SEGMENT_MICROS + 9_999) / 10_000);
    assertThat(spend.get("campaigns")).hasSize(4);
    long perCampaign = 0;
    for (JsonNode c : spend.get("campaigns")) {
      assertThat(ids).contains(c.get("id").asText());
      perCampaign += c.get("spentCents").asLong();
    }
    assertThat(perCampaign).isEqualTo(spentCents);
    assertThat(spend.get("entries")).hasSize(50);
    List<Integer> alerts = new ArrayList<>();
    for (JsonNode e : IntakeIT.body(node.get("/v1/spend?kind=alert", op)).get("entries")) {
      assertThat(e.get("kind").asText()).isEqualTo("alert");
      alerts.add(e.at("/detail/percent").asInt());
    }
    // 50% and 80% as the spend grows; 100% when the budget could not cover what came next.
    assertThat(alerts).containsExactlyInAnyOrder(50, 80, 100);
    assertThat(node.get("/v1/spend?kind=refund", op).statusCode()).isEqualTo(400);
    assertThat(node.get("/v1/spend?limit=0", op).statusCode()).isEqualTo(400);
    JsonNode audit =
        IntakeIT.body(node.get("/v1/audit?limit=500", node.token("budget-race", Role.ADMIN)));
    List<String> actions = new ArrayList<>();
    audit.get("items").forEach(a -> actions.add(a.get("action").asText()));
    assertThat(actions.stream().filter(a -> a.equals("budget.alert"))).hasSize(3);

    // Another tenant sees none of it.
    JsonNode other = IntakeIT.body(node.get("/v1/spend", node.tenant("budget-other")));
    assertThat(other.get("spentCents").asLong()).isZero();
    assertThat(other.get("campaigns")).isEmpty();
    assertThat(other.get("entries")).isEmpty();
  }

  @Test
  void aCampaignBudgetCapsTheCampaignAndZeroSendsNothing() {
    String op = node.tenant("budget-campaign");
    String five = create(op, importOf(op, 718, 30, "R"), ",\"budgetCents\":5");
    String none = create(op, importOf(op, 347, 10, "R"), ",\"budgetCents\":0");
    for (String id : List.of(five, none)) {
      assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
          .isEqualTo(202);
    }
    JsonNode capped =
        CampaignLifecycleIT.awaitState(node, op, five, "completed", Duration.ofMinutes(1));
    // 5 cents buy 6 messages at 0.83 cents.
    assertThat(capped.at("/counts/sent").asLong()).isEqualTo(6);
    assertThat(capped.at("/counts/blocked/budget").asLong()).isEqualTo(24);
    assertThat(capped.get("spentCents").asLong()).isEqualTo(5);
    JsonNode nothing =
        CampaignLifecycleIT.awaitState(node, op, none, "completed", Duration.ofMinutes(1));
    assertThat(nothing.at("/counts/sent").asLong()).isZero();
    assertThat(nothing.at("/counts/blocked/budget").asLong()).isEqualTo(10);
    assertThat(nothing.get("spentCents").asLong()).isZero();
  }

  @Test
  void aFinishedCampaignsSpendMatchesItsEstimate() {
    String op = node.tenant("budget-estimate");
    // Names of every length and alphabet: one, two and three segments, GSM-7 and UCS-2.
    String[] names = {
      "Al", "Bartholomew-Alexander", "Zoë", "Łukasz", "李小龍", "Ana María", "José",
    };
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < 210; i++) {
      String name = names[i % names.length] + (i % 3 == 0 ? " " + "x".repeat(i % 90) : "");
      csv.append('"')
          .append(name)
          .append('"')
          .append(',')
          .append(CampaignLifecycleIT.phone(212, i))
          .append('\n');
    }
    String importId = IntakeIT.importAndWait(node, op, csv.toString()).get("id").asText();
    String id = create(op, importId, "");
    long previewed =
        IntakeIT.body(node.get("/v1/campaigns/" + id + "/preview", op))
            .get("estimatedCostCents")
            .asLong();
    assertThat(node.json("POST", "/v1/campaigns/" + id + "/launch", op, null).statusCode())
        .isEqualTo(202);
    JsonNode done =
        CampaignLifecycleIT.awaitState(node, op, id, "completed", Duration.ofMinutes(1));
    long estimated = done.get("estimatedCostCents").asLong();
    long spent = done.get("spentCents").asLong();
    assertThat(done.at("/counts/sent").asLong()).isEqualTo(210);
    assertThat(spent).as("more than one segment per message").isGreaterThan(210 * 83 / 100);
    assertThat((double) Math.abs(estimated - spent)).isLessThanOrEqualTo(0.02 * spent);
    assertThat((double) Math.abs(previewed - spent)).isLessThanOrEqualTo(0.02 * spent);
  }

  private static long sum(JsonNode blocked) {
    long n = 0;
    for (JsonNode v : blocked) {
      n += v.asLong();
    }
    return n;
  }

  private static String importOf(String op, int area, int n, String name) {
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < n; i++) {
      csv.append(name)
          .append(i)
          .append(',')
          .append(CampaignLifecycleIT.phone(area, i))
          .append('\n');
    }
    return IntakeIT.importAndWait(node, op, csv.toString()).get("id").asText();
  }

  private static String create(String op, String importId, String extra) {
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Budget\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + importId
                + "\"},\"message\":\"Hi {{first_name}}, a word from us about your order.\""
                + extra
                + "}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return IntakeIT.body(created).get("id").asText();
  }
}
