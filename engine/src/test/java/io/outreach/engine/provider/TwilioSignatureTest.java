package io.outreach.engine.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** {@link TwilioSignature} against Twilio's documented vectors (docs TEST-VECTORS.md). */
class TwilioSignatureTest {
  private static final String TOKEN = "12345";
  private static final String URL = "https://mycompany.com/myapp.php?foo=1&bar=2";

  private static Map<String, String> params(String caller) {
    return Map.of(
        "CallSid", "CA1234567890ABCDE",
        "Caller", caller,
        "Digits", "1234",
        "From", caller,
        "To", "+18005551212");
  }

  @Test
  void signsTwiliosFirstDocumentedVector() {
    assertThat(TwilioSignature.sign(TOKEN, URL, params("+14158675309")))
        .isEqualTo("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    assertThat(
            TwilioSignature.verify(
                TOKEN, URL, params("+14158675309"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="))
        .isTrue();
  }

  @Test
  void signsTwiliosSecondDocumentedVector() {
    assertThat(TwilioSignature.sign(TOKEN, URL, params("+12349013030")))
        .isEqualTo("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    assertThat(
            TwilioSignature.verify(
                TOKEN, URL, params("+12349013030"), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
        .isTrue();
  }

  @Test
  void anyChangedValueTokenOrUrlPartFails() {
    String good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    Map<String, String> digits = new HashMap<>(params("+14158675309"));
    digits.put("Digits", "9999");
    assertThat(TwilioSignature.verify(TOKEN, URL, digits, good)).isFalse();
    assertThat(TwilioSignature.verify("54321", URL, params("+14158675309"), good)).isFalse();
    for (String url :
        new String[] {
          "http://mycompany.com/myapp.php?foo=1&bar=2",
          "https://evil.com/myapp.php?foo=1&bar=2",
          "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
          "https://mycompany.com/myapp.php?foo=1&bar=3",
          "https://mycompany.com/myapp.php"
        }) {
      assertThat(TwilioSignature.verify(TOKEN, url, params("+14158675309"), good))
          .as(url)
          .isFalse();
    }
  }

  @Test
  void missingOrMangledHeaderFails() {
    assertThat(TwilioSignature.verify(TOKEN, URL, params("+14158675309"), null)).isFalse();
    assertThat(TwilioSignature.verify(TOKEN, URL, params("+14158675309"), "")).isFalse();
    assertThat(
            TwilioSignature.verify(
                TOKEN, URL, params("+14158675309"), "RSOYDt4T1cUTdK1PDd93/VVr8B8"))
        .isFalse();
  }

  @Test
  void sortsParamsByNameWhateverTheirOrderAndKeepsTheQueryStringInTheUrl() throws Exception {
    // Code-point order puts upper case before lower case and "To" before "ToCountry".
    Map<String, String> unordered = new LinkedHashMap<>();
    unordered.put("body", "lower");
    unordered.put("ToCountry", "US");
    unordered.put("To", "+15550100001");
    unordered.put("Body", "Hi & bye=1");
    unordered.put("AccountSid", "AC00");
    String url = "https://engine.example:8443/webhooks/twilio/acme/status?attempt=2&x=%20y";
    String expected =
        hmacSha1Base64(
            "tok",
            url
                + "AccountSid"
                + "AC00"
                + "Body"
                + "Hi & bye=1"
                + "To"
                + "+15550100001"
                + "ToCountry"
                + "US"
                + "body"
                + "lower");

    assertThat(TwilioSignature.sign("tok", url, unordered)).isEqualTo(expected);
    assertThat(TwilioSignature.verify("tok", url, new HashMap<>(unordered), expected)).isTrue();
  }

  @Test
  void noParamsSignsTheUrlAlone() throws Exception {
    String url = "https://engine.example/webhooks/twilio/acme/sms?x=1";
    assertThat(TwilioSignature.sign("tok", url, Map.of())).isEqualTo(hmacSha1Base64("tok", url));
  }

  private static String hmacSha1Base64(String key, String data) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
    return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
  }
}
