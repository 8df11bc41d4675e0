package io.outreach.http.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.provider.SendResult;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What SignalHouse's answers to a send mean (PROVIDERS.md 4.1, 4.2): a 201 is a message taken only
 * with something enqueued; its refusals name their reason and are retried only when SignalHouse
 * says to try again.
 */
class SignalHouseSmsAdapterTest {

  private static SendResult answer(int status, String body, String retryAfter) {
    return SignalHouseSmsAdapter.result(
        new ProviderHttp.Response(status, body, Optional.ofNullable(retryAfter)));
  }

  @Test
  void a201WithAMessageEnqueuedIsAcceptedAsItsId() {
    assertThat(
            answer(
                201,
                """
                {"insertedMessages":[{"_id":"66f0c0ffee0000000000abcd","status":"ENQUEUED"}],
                 "requestedRecipientCount":1,"enqueuedCount":1,"failedCount":0,
                 "dncBlockedNumbers":[]}""",
                null))
        .isEqualTo(new SendResult.Accepted("66f0c0ffee0000000000abcd"));
  }

  @Test
  void a201WithNothingEnqueuedIsAFinalRefusalNamingWhy() {
    assertThat(
            answer(
                201,
                """
                {"insertedMessages":[],"requestedRecipientCount":1,"enqueuedCount":0,
                 "failedCount":1,"dncBlockedNumbers":["12125550123"]}""",
                null))
        .isEqualTo(
            new SendResult.Rejected(
                201,
                "not enqueued: the number 12125550123 is on SignalHouse's do-not-contact list",
                false,
                Optional.empty()));
    assertThat(
            answer(
                201,
                """
                {"insertedMessages":[{"_id":"66f0c0ffee0000000000abce","status":"FAILED",
                 "errorCode":"OUT"}],"requestedRecipientCount":1,"enqueuedCount":0,
                 "failedCount":1,"dncBlockedNumbers":[]}""",
                null))
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).contains("errorCode OUT").contains("opted out");
            });
    assertThat(answer(201, "{\"enqueuedCount\":0}", null))
        .isInstanceOfSatisfying(
            SendResult.Rejected.class,
            r -> {
              assertThat(r.retryable()).isFalse();
              assertThat(r.reason()).startsWith("not enqueued");
            });
  }

  @Test
  void unauthorizedAndAKeyReusedForAnotherBodyAreFinal() {
    assertThat(answer(401, "{\"message\":\"token expired\"}", null))
        .isEqualTo(
            new SendResult.Rejected(401, "unauthorized: token expired", false, Optional.empty()));
    assertThat(answer(422, "{\"message\":\"key reused\"}", null))
        .isEqualTo(new SendResult.Rejected(422, "key reused", false, Optional.empty()));
    assertThat(answer(400, "{\"message\":\"bad number\"}", null))
        .isInstanceOfSatisfying(
            SendResult.Rejected.class, r -> assertThat(r.retryable()).isFalse());
  }

  @Test
  void throttlingARequestStillInFlightAndServerErrorsAreRetriedAfterTheirRetryAfter() {
    assertThat(answer(429, "{\"message\":\"slow down\"}", "7"))
        .isEqualTo(
            new SendResult.Rejected(429, "slow down", true, Optional.of(Duration.ofSeconds(7))));
    assertThat(answer(409, "{\"message\":\"in flight\"}", "1"))
        .isEqualTo(
            new SendResult.Rejected(409, "in flight", true, Optional.of(Duration.ofSeconds(1))));
    assertThat(answer(503, "", null))
        .isInstanceOfSatisfying(SendResult.Rejected.class, r -> assertThat(r.retryable()).isTrue());
  }

  @Test
  void numbersGoAsDigitsOnly() {
    assertThat(SignalHouseSmsAdapter.digits("+12125550123")).isEqualTo("12125550123");
    assertThat(SignalHouseSmsAdapter.digits("12125550123")).isEqualTo("12125550123");
  }
}
