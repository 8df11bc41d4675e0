package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.message.MessageStatus;
import org.junit.jupiter.api.Test;

/** What a call's callbacks mean: the spoken opt-out and the statuses of its message. */
class CallWebhooksTest {
  @Test
  void spokenOptOuts() {
    assertThat(CallWebhooks.saysOptOut("Stop.")).isTrue();
    assertThat(CallWebhooks.saysOptOut("please stop calling me")).isTrue();
    assertThat(CallWebhooks.saysOptOut("Opt out")).isTrue();
    assertThat(CallWebhooks.saysOptOut("don't call this number again")).isTrue();
    assertThat(CallWebhooks.saysOptOut("unsubscribe me")).isTrue();
    assertThat(CallWebhooks.saysOptOut("yes I am interested")).isFalse();
    assertThat(CallWebhooks.saysOptOut("help")).isFalse();
    assertThat(CallWebhooks.saysOptOut("")).isFalse();
  }

  @Test
  void aCallsStatusAsItsMessages() {
    assertThat(CallWebhooks.messageStatus("queued")).hasValue(MessageStatus.QUEUED);
    assertThat(CallWebhooks.messageStatus("initiated")).hasValue(MessageStatus.QUEUED);
    assertThat(CallWebhooks.messageStatus("ringing")).hasValue(MessageStatus.SENT);
    assertThat(CallWebhooks.messageStatus("in-progress")).hasValue(MessageStatus.SENT);
    assertThat(CallWebhooks.messageStatus("completed")).hasValue(MessageStatus.DELIVERED);
    assertThat(CallWebhooks.messageStatus("busy")).hasValue(MessageStatus.UNDELIVERED);
    assertThat(CallWebhooks.messageStatus("no-answer")).hasValue(MessageStatus.UNDELIVERED);
    assertThat(CallWebhooks.messageStatus("failed")).hasValue(MessageStatus.FAILED);
    assertThat(CallWebhooks.messageStatus("canceled")).hasValue(MessageStatus.FAILED);
    assertThat(CallWebhooks.messageStatus("answered")).isEmpty();
  }
}
