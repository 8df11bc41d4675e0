package io.outreach.http.provider;

import io.outreach.engine.provider.CallRequest;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.VoiceProvider;
import io.outreach.engine.spend.CallMinutes;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Places calls through Twilio's Calls API ({@code POST
 * {base}/2010-04-01/Accounts/{sid}/Calls.json}, form-encoded, HTTP basic auth {@code sid:token}):
 * {@code To}, {@code From}, {@code Twiml} (the message in {@code <Say>}, inside a {@code <Gather>}
 * that takes the opt-out key or word when there is a gather URL), {@code StatusCallback} with
 * {@code StatusCallbackEvent} repeated once per event ({@code initiated}, {@code ringing}, {@code
 * answered}, {@code completed}: a single space-joined value would subscribe to nothing), {@code
 * Timeout}, {@code TimeLimit} and, when configured, {@code MachineDetection}. The idempotency key
 * travels in {@code I-Twilio-Idempotency-Token}, as for messages.
 */
public final class TwilioVoiceAdapter implements VoiceProvider {
  static final List<String> EVENTS = List.of("initiated", "ringing", "answered", "completed");

  private final String callsUri;
  private final HttpHeader authorization;
  private final ProviderHttp http;
  private final VoiceCalls settings;

  public TwilioVoiceAdapter(
      ProviderHttp http, URI baseUrl, String accountSid, String authToken, VoiceCalls settings) {
    this.http = http;
    this.settings = settings;
    this.callsUri =
        ProviderAnswers.stripTrailingSlash(baseUrl.toString())
            + "/2010-04-01/Accounts/"
            + URLEncoder.encode(accountSid, StandardCharsets.UTF_8)
            + "/Calls.json";
    this.authorization =
        RawHeader.create(
            "Authorization",
            "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        (accountSid + ":" + authToken).getBytes(StandardCharsets.UTF_8)));
  }

  @Override
  public CompletionStage<SendResult> call(CallRequest request, Runnable answered) {
    List<HttpHeader> headers =
        new ArrayList<>(List.of(authorization, RawHeader.create("Accept", "application/json")));
    if (request.idempotencyKey() != null) {
      headers.add(RawHeader.create("I-Twilio-Idempotency-Token", request.idempotencyKey()));
    }
    HttpRequest post =
        HttpRequest.POST(callsUri)
            .withHeaders(headers)
            .withEntity(ContentTypes.APPLICATION_X_WWW_FORM_URLENCODED, form(request, settings));
    return http.send(post, answered)
        .thenApply(response -> ProviderAnswers.toResult(response, "sid"));
  }

  /**
   * How long the call may last once answered: the started minutes the spend ledger holds for it
   * ({@link CallMinutes#limit}), never beyond {@code max-call-length}; the provider ends it there.
   */
  static java.time.Duration timeLimit(String say, VoiceCalls settings) {
    java.time.Duration limit = java.time.Duration.ofMinutes(CallMinutes.limit(say));
    return limit.compareTo(settings.maxCallLength()) < 0 ? limit : settings.maxCallLength();
  }

  /** The request's form body, in Twilio's field names (a repeated field once per value). */
  static String form(CallRequest request, VoiceCalls settings) {
    List<Map.Entry<String, String>> form = new ArrayList<>();
    form.add(Map.entry("To", request.to()));
    form.add(Map.entry("From", request.from()));
    form.add(Map.entry("Twiml", twiml(request.say(), request.gatherUrl(), settings)));
    if (request.statusCallbackUrl() != null) {
      form.add(Map.entry("StatusCallback", request.statusCallbackUrl()));
      form.add(Map.entry("StatusCallbackMethod", "POST"));
      EVENTS.forEach(e -> form.add(Map.entry("StatusCallbackEvent", e)));
    }
    form.add(Map.entry("Timeout", Long.toString(settings.ringTimeout().toSeconds())));
    form.add(Map.entry("TimeLimit", Long.toString(timeLimit(request.say(), settings).toSeconds())));
    if (!settings.machineDetection().isEmpty()) {
      form.add(Map.entry("MachineDetection", settings.machineDetection()));
    }
    return form.stream()
        .map(
            e ->
                URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  /**
   * The call's TwiML: the message in {@code <Say>}; with a gather URL, inside a {@code <Gather>}
   * (one key, or speech) followed by the opt-out prompt, whose answer Twilio posts to the gather
   * URL.
   */
  static String twiml(String say, String gatherUrl, VoiceCalls settings) {
    String message = "<Say>" + xml(say) + "</Say>";
    if (gatherUrl == null) {
      return "<Response>" + message + "</Response>";
    }
    return "<Response><Gather input=\"dtmf speech\" numDigits=\"1\" timeout=\"5\" action=\""
        + xml(gatherUrl)
        + "\" method=\"POST\">"
        + message
        + "<Say>"
        + xml(settings.optOutPrompt())
        + "</Say></Gather></Response>";
  }

  /** Text and attribute values escaped for XML. */
  static String xml(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&apos;");
        default -> out.append(ch);
      }
    }
    return out.toString();
  }
}
