package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The form body of a Twilio webhook, parsed as the signature needs it. */
class WebhookFormTest {

  @Test
  void decodesPlusesEscapesAndEmptyValuesAndSortsByName() {
    assertThat(
            WebhookEndpoints.formFields(
                "To=%2B15550100001&From=%2B12125550100&Body=Stop+please%21&NumMedia=0&Empty=&Flag"))
        .hasValueSatisfying(
            f -> {
              assertThat(f)
                  .containsExactly(
                      Map.entry("Body", "Stop please!"),
                      Map.entry("Empty", ""),
                      Map.entry("Flag", ""),
                      Map.entry("From", "+12125550100"),
                      Map.entry("NumMedia", "0"),
                      Map.entry("To", "+15550100001"));
            });
    assertThat(WebhookEndpoints.formFields("")).hasValue(Map.of());
    assertThat(WebhookEndpoints.formFields("Body=%E2%9C%93+ok"))
        .hasValue(Map.of("Body", "\u2713 ok"));
  }

  @Test
  void aMalformedEscapeIsRefused() {
    assertThat(WebhookEndpoints.formFields("Body=100%&To=x")).isEmpty();
    assertThat(WebhookEndpoints.formFields("Body=%zz")).isEmpty();
  }

  /** What a client encodes, we read back, so a signature over it verifies. */
  @Property(tries = 200)
  void roundTripsWhatAClientEncodes(
      @ForAll @Size(max = 8)
          Map<@StringLength(min = 1, max = 12) String, @StringLength(max = 40) String> params) {
    String body =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    Map<String, String> parsed = WebhookEndpoints.formFields(body).orElseThrow();
    assertThat(parsed).isEqualTo(new TreeMap<>(params));
    String url = "https://hooks.example/webhooks/twilio/acme/sms";
    String signature = TwilioSignature.sign("token", url, new TreeMap<>(params));
    assertThat(TwilioSignature.verify("token", url, parsed, signature)).isTrue();
  }
}
