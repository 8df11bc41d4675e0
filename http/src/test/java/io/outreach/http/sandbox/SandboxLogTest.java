package io.outreach.http.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The sandbox log's idempotency (replays, keys in flight, a key with another body), directions,
 * time format, paging, tenant filter and bound.
 */
class SandboxLogTest {
  private final Clock clock = Clock.fixed(Instant.parse("2025-11-25T16:00:00Z"), ZoneOffset.UTC);
  private final AtomicInteger ids = new AtomicInteger();

  private SandboxLogEntry record(SandboxLog log, String provider, String tenant, String key) {
    return log.record(
            provider,
            tenant,
            key,
            "body",
            List.of(
                new SandboxLog.Message(
                    "+12125550123", "+15550100001", "hi", "m" + ids.incrementAndGet(), null)))
        .get(0);
  }

  @Test
  void aRepeatedKeyIsADuplicateWithTheOriginalIdPerProvider() {
    SandboxLog log = new SandboxLog(100, clock);
    SandboxLogEntry first = record(log, "twilio", "acme", "k1");
    SandboxLogEntry again = record(log, "twilio", "acme", "k1");
    SandboxLogEntry otherProvider = record(log, "signalhouse", "acme", "k1");
    SandboxLogEntry noKey1 = record(log, "twilio", "acme", null);
    SandboxLogEntry noKey2 = record(log, "twilio", "acme", null);

    assertThat(first.duplicate()).isFalse();
    assertThat(again.duplicate()).isTrue();
    assertThat(again.messageId()).isEqualTo(first.messageId());
    assertThat(again.id()).isGreaterThan(first.id());
    assertThat(otherProvider.duplicate()).isFalse();
    assertThat(otherProvider.messageId()).isNotEqualTo(first.messageId());
    assertThat(noKey1.duplicate()).isFalse();
    assertThat(noKey2.duplicate()).isFalse();
    assertThat(first.at()).isEqualTo(clock.instant());
  }

  @Test
  void aClaimedKeyIsInFlightUntilRecordedThenReplayedAndAnotherBodyConflicts() {
    SandboxLog log = new SandboxLog(100, clock);
    assertThat(log.claim("signalhouse", "k1", "body-a")).isEqualTo(SandboxLog.KeyState.FRESH);
    assertThat(log.claim("signalhouse", "k1", "body-a")).isEqualTo(SandboxLog.KeyState.IN_FLIGHT);
    assertThat(log.claim("signalhouse", "k1", "body-b")).isEqualTo(SandboxLog.KeyState.CONFLICT);
    List<SandboxLogEntry> first =
        log.record(
            "signalhouse",
            "acme",
            "k1",
            "body-a",
            List.of(
                new SandboxLog.Message("+12125550123", "+15550100001", "hi", "id-1", null),
                new SandboxLog.Message("+12125550124", "+15550100001", "hi", null, "DNC")));
    assertThat(log.claim("signalhouse", "k1", "body-a")).isEqualTo(SandboxLog.KeyState.REPLAY);
    assertThat(log.claim("signalhouse", "k1", "body-b")).isEqualTo(SandboxLog.KeyState.CONFLICT);
    assertThat(log.claim("twilio", "k1", "body-b"))
        .as("keys are per provider")
        .isEqualTo(SandboxLog.KeyState.FRESH);

    List<SandboxLogEntry> replay =
        log.record(
            "signalhouse",
            "acme",
            "k1",
            "body-a",
            List.of(new SandboxLog.Message("+12125550123", "+15550100001", "hi", "id-2", null)));
    assertThat(replay).hasSize(2).allMatch(SandboxLogEntry::duplicate);
    assertThat(replay)
        .extracting(SandboxLogEntry::messageId)
        .containsExactly(first.get(0).messageId(), null);
    assertThat(replay).extracting(SandboxLogEntry::blocked).containsExactly(null, "DNC");
  }

  @Test
  void aKeyOlderThanTheBoundIsForgotten() {
    SandboxLog log = new SandboxLog(2, clock);
    record(log, "twilio", "acme", "k1");
    record(log, "twilio", "acme", "k2");
    record(log, "twilio", "acme", "k3");
    assertThat(record(log, "twilio", "acme", "k3").duplicate()).isTrue();
    assertThat(record(log, "twilio", "acme", "k1").duplicate())
        .as("k1 was dropped with the oldest entries")
        .isFalse();
  }

  @Test
  void repliesAreLoggedAsInboundBesideOutboundRequests() {
    SandboxLog log = new SandboxLog(100, clock);
    SandboxLogEntry sent = record(log, "twilio", "acme", "k1");
    SandboxLogEntry reply =
        log.recordInbound("twilio", "acme", "+15550100001", "+12125550123", "STOP", "SM1");

    assertThat(sent.direction()).isEqualTo(SandboxLogEntry.OUTBOUND);
    assertThat(reply.direction()).isEqualTo(SandboxLogEntry.INBOUND);
    assertThat(reply.messageId()).isEqualTo("SM1");
    assertThat(reply.duplicate()).isFalse();
    assertThat(reply.idempotencyKey()).isNull();
    assertThat(log.since(0, "acme", 100)).containsExactly(sent, reply);
  }

  @Test
  void atAlwaysCarriesMilliseconds() throws Exception {
    ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule());
    SandboxLog whole = new SandboxLog(10, clock);
    assertThat(
            json.readTree(json.writeValueAsString(record(whole, "twilio", "acme", null)))
                .get("at")
                .asText())
        .isEqualTo("2025-11-25T16:00:00.000Z");
    Clock micros = Clock.fixed(Instant.parse("2025-11-25T16:00:01.234567Z"), ZoneOffset.UTC);
    SandboxLog fine = new SandboxLog(10, micros);
    assertThat(
            json.readTree(json.writeValueAsString(record(fine, "twilio", "acme", null)))
                .get("at")
                .asText())
        .isEqualTo("2025-11-25T16:00:01.234Z");
  }

  @Test
  void sinceAndTenantFilterOldestFirst() {
    SandboxLog log = new SandboxLog(100, clock);
    for (int i = 0; i < 6; i++) {
      record(log, "twilio", i % 2 == 0 ? "acme" : "bravo", "k" + i);
    }
    assertThat(log.since(0, null, 100))
        .extracting(SandboxLogEntry::id)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(log.since(2, "acme", 100)).extracting(SandboxLogEntry::id).containsExactly(3L, 5L);
    assertThat(log.since(6, null, 100)).isEmpty();
    assertThat(log.since(0, null, 2)).extracting(SandboxLogEntry::id).containsExactly(1L, 2L);
  }

  @Test
  void keepsOnlyTheNewestEntriesUpToItsCapacity() {
    SandboxLog log = new SandboxLog(3, clock);
    for (int i = 0; i < 5; i++) {
      record(log, "twilio", "acme", "k" + i);
    }
    assertThat(log.since(0, null, 100)).extracting(SandboxLogEntry::id).containsExactly(3L, 4L, 5L);
  }

  @Test
  void tenantComesFromTheCallbackPathOnly() {
    assertThat(SandboxRoutes.tenantOf("https://e.example/webhooks/twilio/acme/status?x=1"))
        .isEqualTo("acme");
    assertThat(SandboxRoutes.tenantOf("https://e.example/webhooks/signalhouse/bravo?ref=c:1:0"))
        .isEqualTo("bravo");
    assertThat(SandboxRoutes.tenantOf(null)).isNull();
    assertThat(SandboxRoutes.tenantOf("https://e.example/other")).isNull();
  }

  @Test
  void callbacksAreTakenOnlyUnderTheEngineUrl() {
    EngineUrl engine = new EngineUrl(() -> "http://127.0.0.1:8080/");
    assertThat(engine.refusal("http://127.0.0.1:8080/webhooks/twilio/acme/status?ref=x")).isNull();
    assertThat(engine.refusal("HTTP://127.0.0.1:8080/webhooks/signalhouse/acme")).isNull();
    for (String elsewhere :
        List.of(
            "http://127.0.0.1:8081/webhooks/twilio/acme/status",
            "http://localhost:8080/webhooks/twilio/acme/status",
            "https://127.0.0.1:8080/webhooks/twilio/acme/status",
            "http://127.0.0.1:8080@evil.example/webhooks/twilio/acme/status",
            "http://user@127.0.0.1:8080/webhooks/twilio/acme/status",
            "/webhooks/twilio/acme/status",
            "not a url")) {
      assertThat(engine.refusal(elsewhere)).as(elsewhere).isNotNull();
    }
    EngineUrl underPath = new EngineUrl(() -> "https://outreach.example/engine");
    assertThat(underPath.refusal("https://outreach.example:443/engine/webhooks/x")).isNull();
    assertThat(underPath.refusal("https://outreach.example/engine2/webhooks/x")).isNotNull();
    assertThat(underPath.refusal("https://outreach.example/engine/../admin")).isNotNull();
    assertThat(new EngineUrl(() -> null).refusal("http://127.0.0.1:8080/webhooks/x"))
        .contains("--engine-url");
  }
}
