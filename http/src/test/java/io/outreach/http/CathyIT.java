package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.campaign.BlockEntity;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Cathy over a simulated month on the campaign clock: a national list (New York, Los Angeles,
 * Honolulu) under the real legal hours, a campaign with two follow-up steps a day apart under
 * Cathy's guardrails (two per recipient, 48 hours between contacts, twelve follow-ups a day across
 * the tenant), a second campaign to the same numbers in the middle of it, and a person who answers
 * the first message. The clock jumps from one stored wake-up to the next once the engine is idle;
 * every contact's time on the campaign clock is read off the twin's log before the clock moves.
 */
class CathyIT {
  private static final String TENANT = "cathy-month";
  private static final String SENDER = "+15550100031";
  private static final int PER_ZONE = 10;
  private static final int MAX_FOLLOW_UPS = 2;
  private static final Duration SPACING = Duration.ofHours(48);
  private static final int DAILY_CAP = 12;
  private static final ZoneId TENANT_ZONE = ZoneId.of("America/New_York");
  // Monday 2026-11-02 14:00Z: 09:00 in New York, 06:00 in Los Angeles, 04:00 in Honolulu.
  private static final Instant START = Instant.parse("2026-11-02T14:00:00Z");
  private static final Instant SECOND_CAMPAIGN = START.plus(Duration.ofDays(3));
  private static final Instant MONTH_END = START.plus(Duration.ofDays(30));
  private static final Map<String, ZoneId> AREAS =
      Map.of(
          "212", ZoneId.of("America/New_York"),
          "213", ZoneId.of("America/Los_Angeles"),
          "808", ZoneId.of("Pacific/Honolulu"));

  /** One message at the twin, on the campaign clock. */
  record Contact(String to, String key, String campaign, int step, Instant at) {}

  @Test
  void cathyKeepsHerCapsAndSpacingForAMonthAndStopsOnAReply() throws Exception {
    MovableClock clock = MovableClock.at(START);
    Map<String, Object> config =
        Map.of(
            "outreach.compliance.federal-hours.start", "08:00",
            "outreach.compliance.federal-hours.end", "21:00");
    try (TestEngine node = TestEngine.start(Files.createTempDirectory("cathy-it"), config, clock)) {
      String op = node.tenant(TENANT);
      node.settings(
          TENANT,
          "{\"senders\":[{\"provider\":\"twilio\",\"from\":\""
              + SENDER
              + "\",\"kind\":\"long_code\",\"mps\":10}],\"programName\":\"Acme\","
              + "\"agentPolicies\":{\"cathy\":{\"enabled\":true,\"humanReview\":true,"
              + "\"maxFollowUps\":"
              + MAX_FOLLOW_UPS
              + ",\"minSpacingHours\":"
              + SPACING.toHours()
              + ",\"dailyCap\":"
              + DAILY_CAP
              + "}}}");
      StringBuilder csv = new StringBuilder("first_name,phone\n");
      List<String> phones = new ArrayList<>();
      for (String area : List.of("212", "213", "808")) {
        for (int i = 0; i < PER_ZONE; i++) {
          String phone = "+1" + area + "555" + String.format("%04d", 100 + i);
          phones.add(phone);
          csv.append("P").append(area).append(i).append(',').append(phone).append('\n');
        }
      }
      String importId = IntakeIT.importAndWait(node, op, csv.toString()).get("id").asText();

      // More steps than Cathy allows: the launch is refused, naming the limit.
      String tooMany = create(node, op, importId, 3);
      var refused = node.json("POST", "/v1/campaigns/" + tooMany + "/launch", op, null);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
      assertThat(refused.body()).contains("maxFollowUps").contains("at most 2");

      String first = create(node, op, importId, MAX_FOLLOW_UPS);
      assertThat(node.json("POST", "/v1/campaigns/" + first + "/launch", op, null).statusCode())
          .isEqualTo(202);
      Map<String, Contact> seen = new HashMap<>();
      String replier = phones.get(0);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> read(node, clock, seen).stream().anyMatch(c -> c.to().equals(replier)));
      node.reply(TENANT, replier, SENDER, "Thanks, I'll think about it");

      String second = null;
      int jumps = 0;
      while (clock.instant().isBefore(MONTH_END)) {
        awaitIdle(node, clock, seen);
        Instant next = nextWake(node);
        if (second == null && (next == null || next.isAfter(SECOND_CAMPAIGN))) {
          if (clock.instant().isBefore(SECOND_CAMPAIGN)) {
            clock.advance(Duration.between(clock.instant(), SECOND_CAMPAIGN));
          }
          second = create(node, op, importId, 0);
          assertThat(
                  node.json("POST", "/v1/campaigns/" + second + "/launch", op, null).statusCode())
              .isEqualTo(202);
          continue;
        }
        if (next == null) {
          break;
        }
        if (next.isAfter(clock.instant())) {
          clock.advance(Duration.between(clock.instant(), next.plusSeconds(1)));
        }
        jumps++;
      }
      assertThat(clock.instant()).as("done within the month").isBefore(MONTH_END);
      JsonNode a =
          CampaignLifecycleIT.awaitState(node, op, first, "completed", Duration.ofSeconds(10));
      JsonNode b =
          CampaignLifecycleIT.awaitState(node, op, second, "completed", Duration.ofSeconds(10));

      List<Contact> all = read(node, clock, seen);
      Map<String, List<Contact>> byPhone =
          all.stream()
              .sorted(Comparator.comparing(Contact::at))
              .collect(Collectors.groupingBy(Contact::to));
      List<Contact> followUps = all.stream().filter(c -> c.step() > 0).toList();

      // Everyone had both first messages; the replier had no follow-up, everyone else two.
      assertThat(all.stream().filter(c -> c.step() == 0)).hasSize(2 * phones.size());
      assertThat(followUps).noneMatch(c -> c.to().equals(replier));
      assertThat(followUps).hasSize(MAX_FOLLOW_UPS * (phones.size() - 1));
      assertThat(a.at("/counts/followUps/sent").asLong()).isEqualTo(followUps.size());
      assertThat(a.at("/counts/followUps/stopped").asLong()).as("the replier's").isPositive();
      assertThat(b.at("/counts/sent").asLong()).isEqualTo(phones.size());

      for (Map.Entry<String, List<Contact>> e : byPhone.entrySet()) {
        List<Contact> contacts = e.getValue();
        assertThat(contacts.stream().filter(c -> c.step() > 0))
            .as("follow-ups to %s", e.getKey())
            .hasSizeLessThanOrEqualTo(MAX_FOLLOW_UPS);
        for (int i = 1; i < contacts.size(); i++) {
          if (contacts.get(i).step() > 0) {
            // The twin logs when a message reached it; the ledger judged the spacing a few
            // milliseconds earlier, when the contact was recorded just before the call.
            assertThat(Duration.between(contacts.get(i - 1).at(), contacts.get(i).at()))
                .as("spacing before %s", contacts.get(i))
                .isGreaterThan(SPACING.minusSeconds(1));
          }
        }
        ZoneId zone = AREAS.get(e.getKey().substring(2, 5));
        for (Contact c : contacts) {
          LocalTime local = c.at().atZone(zone).toLocalTime();
          assertThat(local)
              .as("legal hours of %s", c)
              .isBetween(LocalTime.of(8, 0), LocalTime.of(21, 0));
        }
      }
      Map<LocalDate, Long> perDay =
          followUps.stream()
              .collect(
                  Collectors.groupingBy(
                      c -> c.at().atZone(TENANT_ZONE).toLocalDate(),
                      TreeMap::new,
                      Collectors.counting()));
      assertThat(perDay.values()).allMatch(n -> n <= DAILY_CAP);
      assertThat(perDay.values())
          .as("the cap binds on some day: %s", perDay)
          .contains((long) DAILY_CAP);
      assertThat(jumps).isPositive();

      // Each of Cathy's decisions is in the audit trail under the campaign.
      Map<String, Long> actions =
          node.pages("/v1/audit?subject=" + first + "&limit=200", op).stream()
              .filter(e -> e.get("actor").asText().equals("agent:cathy"))
              .collect(
                  Collectors.groupingBy(
                      e -> e.get("action").asText() + "/" + e.at("/detail/reason").asText("-"),
                      Collectors.counting()));
      assertThat(actions.get("cathy.follow_up.sent/-")).isEqualTo((long) followUps.size());
      assertThat(actions.get("cathy.follow_up.deferred/cathy:daily-cap")).isPositive();
      assertThat(actions.keySet())
          .anyMatch(k -> k.startsWith("cathy.follow_up.blocked/") && k.contains("reply"));
      System.out.printf(
          "CathyIT: %d contacts, %d follow-ups over %s; follow-ups per tenant day %s%n",
          all.size(), followUps.size(), Duration.between(START, clock.instant()), perDay);
    }
  }

  private static String create(TestEngine node, String op, String importId, int steps) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < steps; i++) {
      s.append(i == 0 ? "" : ",")
          .append("{\"afterHours\":24,\"message\":\"Step ")
          .append(i + 1)
          .append(", {{first_name}}\"}");
    }
    var created =
        node.json(
            "POST",
            "/v1/campaigns",
            op,
            "{\"name\":\"Month\",\"channel\":\"sms\",\"audience\":{\"importId\":\""
                + importId
                + "\"},\"message\":\"Hi {{first_name}}\",\"steps\":["
                + s
                + "]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return IntakeIT.body(created).get("id").asText();
  }

  /**
   * The twin's log so far, each message new since the last read placed on the campaign clock as it
   * stands now (the twin logs real time; the clock has not moved since these were sent).
   */
  private static List<Contact> read(
      TestEngine node, MovableClock clock, Map<String, Contact> seen) {
    for (JsonNode e : IntakeIT.body(node.sandboxLog(TENANT))) {
      String key = e.path("idempotencyKey").asText("");
      // A campaign's message is keyed campaign:slot:step; the twin logs inbound replies too.
      if (key.matches("[^:]+:\\d+:\\d+")
          && !seen.containsKey(key)
          && !e.path("duplicate").asBoolean(false)) {
        String[] parts = key.split(":");
        seen.put(
            key,
            new Contact(
                e.get("to").asText(),
                key,
                parts[0],
                Integer.parseInt(parts[parts.length - 1]),
                Instant.parse(e.get("at").asText()).plus(clock.offset())));
      }
    }
    return new ArrayList<>(seen.values());
  }

  /**
   * Waits until no block has work now (every block row either gone or waiting for a stored time)
   * and the twin's log has stopped growing, reading it as it grows.
   */
  private static void awaitIdle(TestEngine node, MovableClock clock, Map<String, Contact> seen)
      throws SQLException {
    int[] last = {-1};
    System.out.printf(
        "CathyIT at %s: %d messages, %d blocks active, next wake %s%n",
        clock.instant(), seen.size(), activeBlocks(node), nextWake(node));
    try {
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () -> {
                int now = read(node, clock, seen).size();
                boolean stable = now == last[0];
                last[0] = now;
                return stable && activeBlocks(node) == 0;
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      System.out.println("CathyIT: never idle; blocks: " + blockRows(node));
      throw e;
    }
  }

  private static String blockRows(TestEngine node) throws SQLException {
    return query(
        node,
        "select string_agg(entity_id || '@' || coalesce(wake_at::text, 'now'), ', ')"
            + " from resumable_work where entity_type = ?",
        rs -> rs.getString(1));
  }

  private static long activeBlocks(TestEngine node) throws SQLException {
    return query(
        node,
        "select count(*) from resumable_work where entity_type = ? and wake_at is null",
        rs -> rs.getLong(1));
  }

  /** The earliest stored wake-up of a block, or null when none waits. */
  private static Instant nextWake(TestEngine node) throws SQLException {
    return query(
        node,
        "select min(wake_at) from resumable_work where entity_type = ?",
        rs -> {
          Timestamp t = rs.getTimestamp(1);
          return t == null ? null : t.toInstant();
        });
  }

  interface Row<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private static <T> T query(TestEngine node, String sql, Row<T> row) throws SQLException {
    try (Connection c = node.engine.database().dataSource().getConnection();
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, BlockEntity.ENTITY_TYPE_KEY.name());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return row.read(rs);
      }
    }
  }
}
