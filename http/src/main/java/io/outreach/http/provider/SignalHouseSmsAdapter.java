package io.outreach.http.provider;

import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Sends SMS through SignalHouse: {@code POST {base}/message/sms} with a JSON body
 * {@code {"from","to","message","statusCallback"}}, {@code Authorization: Bearer <apiKey>} and
 * {@code Idempotency-Key}; the answer names the message in {@code messageId} (or {@code id}).
 * The body shape is ours, modelled on SignalHouse's public API; the sandbox twin accepts
 * exactly this shape.
 */
public final class SignalHouseSmsAdapter implements SmsProvider {
  private final URI sendUri;
  private final String apiKey;
  private final HttpClient client;

  public SignalHouseSmsAdapter(URI baseUrl, String apiKey) {
    this.sendUri =
        URI.create(ProviderAnswers.stripTrailingSlash(baseUrl.toString()) + "/message/sms");
    this.apiKey = apiKey;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TwilioSmsAdapter.CONNECT_TIMEOUT)
            .build();
  }

  @Override
  public CompletionStage<SendResult> send(SmsRequest request) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("from", request.from());
    body.put("to", request.to());
    body.put("message", request.body());
    if (request.statusCallbackUrl() != null) {
      body.put("statusCallback", request.statusCallbackUrl());
    }
    HttpRequest.Builder http =
        HttpRequest.newBuilder(sendUri)
            .timeout(TwilioSmsAdapter.REQUEST_TIMEOUT)
            .header("Authorization", "Bearer " + apiKey)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(ProviderAnswers.json(body)));
    if (request.idempotencyKey() != null) {
      http.header("Idempotency-Key", request.idempotencyKey());
    }
    return client
        .sendAsync(http.build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(response -> ProviderAnswers.toResult(response, "messageId", "id"));
  }
}
