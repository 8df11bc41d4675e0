package io.outreach.http.provider;

import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * Sends SMS through Twilio's Messages API ({@code POST {base}/2010-04-01/Accounts/{sid}/Messages.json},
 * form-encoded, HTTP basic auth {@code sid:token}). The base is {@code https://api.twilio.com}
 * in production and {@code {sandbox}/sandbox/twilio} against the twin. The idempotency key
 * travels in {@code I-Twilio-Idempotency-Token} so a retried send is not delivered twice.
 */
public final class TwilioSmsAdapter implements SmsProvider {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final URI messagesUri;
  private final String authorization;
  private final HttpClient client;

  public TwilioSmsAdapter(URI baseUrl, String accountSid, String authToken) {
    this.messagesUri =
        URI.create(
            ProviderAnswers.stripTrailingSlash(baseUrl.toString())
                + "/2010-04-01/Accounts/"
                + URLEncoder.encode(accountSid, StandardCharsets.UTF_8)
                + "/Messages.json");
    this.authorization =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((accountSid + ":" + authToken).getBytes(StandardCharsets.UTF_8));
    // Plain HTTP/1.1: no h2c upgrade attempt on every new connection to a provider.
    this.client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();
  }

  @Override
  public CompletionStage<SendResult> send(SmsRequest request) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("To", request.to());
    form.put("From", request.from());
    form.put("Body", request.body());
    if (request.statusCallbackUrl() != null) {
      form.put("StatusCallback", request.statusCallbackUrl());
    }
    HttpRequest.Builder http =
        HttpRequest.newBuilder(messagesUri)
            .timeout(REQUEST_TIMEOUT)
            .header("Authorization", authorization)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(formEncode(form)));
    if (request.idempotencyKey() != null) {
      http.header("I-Twilio-Idempotency-Token", request.idempotencyKey());
    }
    return client
        .sendAsync(http.build(), HttpResponse.BodyHandlers.ofString())
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
