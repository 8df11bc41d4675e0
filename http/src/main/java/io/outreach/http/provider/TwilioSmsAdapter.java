package io.outreach.http.provider;

import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Sends SMS through Twilio's Messages API ({@code POST
 * {base}/2010-04-01/Accounts/{sid}/Messages.json}, form-encoded, HTTP basic auth {@code
 * sid:token}). The base is {@code https://api.twilio.com} in production and {@code
 * {sandbox}/sandbox/twilio} against the twin. The idempotency key travels in {@code
 * I-Twilio-Idempotency-Token} so a retried send is not delivered twice.
 */
public final class TwilioSmsAdapter implements SmsProvider {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final String messagesUri;
  private final HttpHeader authorization;
  private final ProviderHttp http;

  public TwilioSmsAdapter(ProviderHttp http, URI baseUrl, String accountSid, String authToken) {
    this.http = http;
    this.messagesUri =
        ProviderAnswers.stripTrailingSlash(baseUrl.toString())
            + "/2010-04-01/Accounts/"
            + URLEncoder.encode(accountSid, StandardCharsets.UTF_8)
            + "/Messages.json";
    this.authorization =
        RawHeader.create(
            "Authorization",
            "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        (accountSid + ":" + authToken).getBytes(StandardCharsets.UTF_8)));
  }

  @Override
  public CompletionStage<SendResult> send(SmsRequest request, Runnable answered) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("To", request.to());
    form.put("From", request.from());
    form.put("Body", request.body());
    if (request.statusCallbackUrl() != null) {
      form.put("StatusCallback", request.statusCallbackUrl());
    }
    List<HttpHeader> headers =
        new ArrayList<>(List.of(authorization, RawHeader.create("Accept", "application/json")));
    if (request.idempotencyKey() != null) {
      headers.add(RawHeader.create("I-Twilio-Idempotency-Token", request.idempotencyKey()));
    }
    HttpRequest post =
        HttpRequest.POST(messagesUri)
            .withHeaders(headers)
            .withEntity(ContentTypes.APPLICATION_X_WWW_FORM_URLENCODED, formEncode(form));
    return http.send(post, answered)
        .thenApply(response -> ProviderAnswers.toResult(response, "sid"));
  }

  static String formEncode(Map<String, String> form) {
    return form.entrySet().stream()
        .map(
            e ->
                URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }
}
