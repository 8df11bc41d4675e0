package io.outreach.http.provider;

import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Sends SMS through SignalHouse: {@code POST {base}/message/sms} with a JSON body {@code
 * {"from","to","message","statusCallback"}}, {@code Authorization: Bearer <apiKey>} and {@code
 * Idempotency-Key}; the answer names the message in {@code messageId} (or {@code id}). The body
 * shape is ours, modelled on SignalHouse's public API; the sandbox twin accepts exactly this shape.
 */
public final class SignalHouseSmsAdapter implements SmsProvider {
  private final String sendUri;
  private final HttpHeader authorization;
  private final ProviderHttp http;

  public SignalHouseSmsAdapter(ProviderHttp http, URI baseUrl, String apiKey) {
    this.http = http;
    this.sendUri = ProviderAnswers.stripTrailingSlash(baseUrl.toString()) + "/message/sms";
    this.authorization = RawHeader.create("Authorization", "Bearer " + apiKey);
  }

  @Override
  public CompletionStage<SendResult> send(SmsRequest request, Runnable answered) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("from", request.from());
    body.put("to", request.to());
    body.put("message", request.body());
    if (request.statusCallbackUrl() != null) {
      body.put("statusCallback", request.statusCallbackUrl());
    }
    List<HttpHeader> headers =
        new ArrayList<>(List.of(authorization, RawHeader.create("Accept", "application/json")));
    if (request.idempotencyKey() != null) {
      headers.add(RawHeader.create("Idempotency-Key", request.idempotencyKey()));
    }
    HttpRequest post =
        HttpRequest.POST(sendUri)
            .withHeaders(headers)
            .withEntity(ContentTypes.APPLICATION_JSON, ProviderAnswers.json(body));
    return http.send(post, answered)
        .thenApply(response -> ProviderAnswers.toResult(response, "messageId", "id"));
  }
}
