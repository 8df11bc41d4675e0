package io.outreach.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Sends SMS through SignalHouse's API as it is: {@code POST {base}/message/sms} with {@code
 * Authorization: Bearer <apiKey>}, {@code Idempotency-Key: <the message's key>} and the JSON body
 * {@code {"senderPhoneNumber", "recipientPhoneNumber": [one number], "messageBody",
 * "statusCallbackUrl"}}, numbers as digits only (E.164 without its {@code +}).
 *
 * <p>A 201 does not mean the message was taken: SignalHouse answers blocked, opted-out and DNC
 * recipients with 201 too, and only {@code enqueuedCount >= 1} says it was (the message is then
 * {@code insertedMessages[0]._id}). A 201 with nothing enqueued is a final refusal naming why (the
 * number in {@code dncBlockedNumbers}, or the message's {@code errorCode}, {@code OUT} for an
 * opt-out). 401 (key expired or revoked) and 422 (the key reused for another body) are final; 429
 * and 409 (the same key still being handled) are retried after their {@code Retry-After}, and so is
 * a 5xx.
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
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("senderPhoneNumber", digits(request.from()));
    body.put("recipientPhoneNumber", List.of(digits(request.to())));
    body.put("messageBody", request.body());
    if (request.statusCallbackUrl() != null) {
      body.put("statusCallbackUrl", request.statusCallbackUrl());
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
    return http.send(post, answered).thenApply(SignalHouseSmsAdapter::result);
  }

  /** What SignalHouse's answer to one send means. */
  static SendResult result(ProviderHttp.Response response) {
    int status = response.status();
    JsonNode body = ProviderAnswers.parse(response.body());
    if (status >= 200 && status < 300) {
      JsonNode first = body.path("insertedMessages").path(0);
      if (body.path("enqueuedCount").asInt(0) >= 1) {
        String id = first.path("_id").asText("");
        return id.isBlank()
            // Nothing to match receipts to: a provider fault, as for any answer without an id.
            ? new SendResult.Rejected(
                status, "answer carried no message id", true, Optional.empty())
            : new SendResult.Accepted(id);
      }
      return new SendResult.Rejected(
          status, "not enqueued: " + notEnqueued(body, first), false, Optional.empty());
    }
    return switch (status) {
      case 401 -> ProviderAnswers.rejected(response, body, false, "unauthorized: ");
      case 409, 429 -> ProviderAnswers.rejected(response, body, true, "");
      default -> ProviderAnswers.rejected(response, body, status >= 500, "");
    };
  }

  /** Why a 201 enqueued nothing, as the answer says it. */
  private static String notEnqueued(JsonNode body, JsonNode first) {
    JsonNode dnc = body.path("dncBlockedNumbers");
    if (dnc.isArray() && !dnc.isEmpty()) {
      return "the number " + dnc.get(0).asText() + " is on SignalHouse's do-not-contact list";
    }
    String code = first.path("errorCode").asText("");
    if (!code.isBlank()) {
      return "message "
          + first.path("status").asText("FAILED")
          + ", errorCode "
          + code
          + (code.equals("OUT") ? " (the person opted out)" : "");
    }
    return "enqueuedCount is 0 (blocked by SignalHouse)";
  }

  /** A number as SignalHouse takes it: E.164 without its {@code +}. */
  static String digits(String e164) {
    return e164 != null && e164.startsWith("+") ? e164.substring(1) : e164;
  }
}
