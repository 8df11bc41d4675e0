package io.outreach.http.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.provider.CallRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Calls API request in Twilio's field names (PROVIDERS.md section 3.1). */
class TwilioVoiceAdapterTest {
  private static final CallRequest CALL =
      new CallRequest(
          "acme",
          "+15550100009",
          "+12125550100",
          "Hi Ann & co, <winter> offer",
          "cmp_0123456789:7:0",
          "https://engine.example/webhooks/twilio/acme/call-status?ref=cmp_0123456789%3A7%3A0",
          "https://engine.example/webhooks/twilio/acme/gather?ref=cmp_0123456789%3A7%3A0");

  private static List<String[]> fields(String form) {
    List<String[]> out = new ArrayList<>();
    for (String pair : form.split("&")) {
      String[] kv = pair.split("=", 2);
      out.add(
          new String[] {
            URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
            URLDecoder.decode(kv[1], StandardCharsets.UTF_8)
          });
    }
    return out;
  }

  private static List<String> values(List<String[]> fields, String name) {
    return fields.stream().filter(f -> f[0].equals(name)).map(f -> f[1]).toList();
  }

  @Test
  void oneStatusCallbackEventFieldPerEventAndTheMessageInSay() {
    List<String[]> f = fields(TwilioVoiceAdapter.form(CALL, VoiceCalls.DEFAULTS));
    assertThat(values(f, "To")).containsExactly("+12125550100");
    assertThat(values(f, "From")).containsExactly("+15550100009");
    assertThat(values(f, "StatusCallbackEvent"))
        .containsExactly("initiated", "ringing", "answered", "completed");
    assertThat(values(f, "StatusCallback")).containsExactly(CALL.statusCallbackUrl());
    assertThat(values(f, "StatusCallbackMethod")).containsExactly("POST");
    assertThat(values(f, "Timeout")).containsExactly("30");
    // A short message: a minute's estimate and a minute more, what the ledger holds for the call.
    assertThat(values(f, "TimeLimit")).containsExactly("120");
    assertThat(values(f, "MachineDetection")).isEmpty();
    assertThat(values(f, "Url")).isEmpty();
    String twiml = values(f, "Twiml").get(0);
    assertThat(twiml)
        .startsWith("<Response><Gather input=\"dtmf speech\" numDigits=\"1\"")
        .contains("action=\"" + CALL.gatherUrl() + "\"")
        .contains("<Say>Hi Ann &amp; co, &lt;winter&gt; offer</Say>")
        .contains("press 9 or say stop")
        .endsWith("</Gather></Response>");
  }

  @Test
  void machineDetectionWhenConfiguredAndNoGatherWithoutItsUrl() {
    VoiceCalls amd =
        new VoiceCalls(Duration.ofSeconds(20), Duration.ofMinutes(5), "DetectMessageEnd", "9");
    CallRequest plain =
        new CallRequest(
            "acme", "+15550100009", "+12125550100", "Hello", "k", CALL.statusCallbackUrl(), null);
    List<String[]> f = fields(TwilioVoiceAdapter.form(plain, amd));
    assertThat(values(f, "MachineDetection")).containsExactly("DetectMessageEnd");
    assertThat(values(f, "Twiml")).containsExactly("<Response><Say>Hello</Say></Response>");
  }

  @Test
  void aLongMessageIsLimitedToTheLongestCall() {
    assertThat(TwilioVoiceAdapter.timeLimit("word ".repeat(3_000), VoiceCalls.DEFAULTS))
        .isEqualTo(VoiceCalls.DEFAULTS.maxCallLength());
  }
}
