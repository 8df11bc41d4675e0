package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts delivery receipts for accepted messages to their status-callback URL, signed as the real
 * provider signs them: Twilio form posts with {@code X-Twilio-Signature}, SignalHouse JSON with
 * {@code X-SignalHouse-Timestamp/-Signature/-Delivery-Id}. Each message gets {@code sent} then
 * {@code delivered}, in that order; a failed post is retried a few times with the same delivery
 * id, like the providers do, so the engine's de-duplication is exercised.
 */
final class SandboxReceipts {
  private static final Logger log = LoggerFactory.getLogger(SandboxReceipts.class);
  private static final List<String> STATUSES = List.of("sent", "delivered");
  private static final int ATTEMPTS = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SandboxSettings settings;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  SandboxReceipts(SandboxSettings settings) {
    this.settings = settings;
  }

  /** Posts the receipts of {@code entry} in the background; failures are logged, not thrown. */
  void deliver(SandboxLogEntry entry, String callbackUrl) {
    CompletionStage<Boolean> chain = CompletableFuture.completedFuture(true);
    for (String status : STATUSES) {
      chain = chain.thenCompose(ignored -> post(entry, callbackUrl, status));
    }
    chain.exceptionally(
        e -> {
          log.warn("receipt for {} to {} failed: {}", entry.messageId(), callbackUrl, e.toString());
          return false;
        });
  }

  private CompletionStage<Boolean> post(SandboxLogEntry entry, String url, String status) {
    if (entry.provider().equals("twilio")) {
      Map<String, String> form = new LinkedHashMap<>();
      form.put("MessageSid", entry.messageId());
      form.put("MessageStatus", status);
      form.put("To", entry.to());
      form.put("From", entry.from());
      form.put("AccountSid", settings.twilioAccountSid());
      String signature = TwilioSignature.sign(settings.twilioAuthToken(), url, form);
      return attempt(
          1,
          () ->
              HttpRequest.newBuilder(URI.create(url))
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .header("X-Twilio-Signature", signature)
                  .POST(HttpRequest.BodyPublishers.ofString(formEncode(form)))
                  .build());
    }
    Map<String, String> data = new LinkedHashMap<>();
    data.put("messageId", entry.messageId());
    data.put("status", status);
    data.put("to", entry.to());
    data.put("from", entry.from());
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("event", "message.status");
    event.put("data", data);
    String body;
    try {
      body = JSON.writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    // Stable across retries of this delivery; each attempt is signed afresh with its own time.
    String deliveryId = UUID.randomUUID().toString();
    return attempt(
        1,
        () -> {
          String timestamp = Long.toString(System.currentTimeMillis());
          return HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json")
              .header("X-SignalHouse-Timestamp", timestamp)
              .header(
                  "X-SignalHouse-Signature",
                  SignalHouseSignature.sign(settings.signalHouseWebhookSecret(), timestamp, body))
              .header("X-SignalHouse-Delivery-Id", deliveryId)
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
        });
  }

  private CompletionStage<Boolean> attempt(
      int n, java.util.function.Supplier<HttpRequest> request) {
    return client
        .sendAsync(request.get(), HttpResponse.BodyHandlers.discarding())
        .handle((response, error) -> error == null && response.statusCode() / 100 == 2)
        .thenCompose(
            ok -> {
              if (ok || n >= ATTEMPTS) {
                return CompletableFuture.completedFuture(ok);
              }
              return CompletableFuture.supplyAsync(
                      () -> null,
                      CompletableFuture.delayedExecutor(200L * n, TimeUnit.MILLISECONDS))
                  .thenCompose(ignored -> attempt(n + 1, request));
            });
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
