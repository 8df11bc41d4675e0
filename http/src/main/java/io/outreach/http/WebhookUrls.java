package io.outreach.http;

import io.outreach.engine.outbound.CallbackUrls;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The webhook URLs providers call this engine at, under its public base URL: Twilio's status
 * callbacks at {@code /webhooks/twilio/{tenant}/status}, SignalHouse's at {@code
 * /webhooks/signalhouse/{tenant}} (see {@link WebhookEndpoints}); a Twilio call's progress at
 * {@code /webhooks/twilio/{tenant}/call-status} and its keypad or spoken answer at {@code
 * /webhooks/twilio/{tenant}/gather} (see {@link CallWebhooks}). A message's or call's key rides
 * along as {@code ?ref=}.
 */
final class WebhookUrls implements CallbackUrls {
  private final Supplier<String> publicUrl;

  WebhookUrls(Supplier<String> publicUrl) {
    this.publicUrl = publicUrl;
  }

  @Override
  public String messageStatus(String tenantId, String provider, String idempotencyKey) {
    String ref = "?ref=" + URLEncoder.encode(idempotencyKey, StandardCharsets.UTF_8);
    return provider.equals("twilio")
        ? publicUrl.get() + "/webhooks/twilio/" + tenantId + "/status" + ref
        : publicUrl.get() + "/webhooks/signalhouse/" + tenantId + ref;
  }

  @Override
  public String callStatus(String tenantId, String provider, String idempotencyKey) {
    return twilio(tenantId, "call-status", idempotencyKey);
  }

  @Override
  public String callGather(String tenantId, String provider, String idempotencyKey) {
    return twilio(tenantId, "gather", idempotencyKey);
  }

  private String twilio(String tenantId, String kind, String idempotencyKey) {
    return publicUrl.get()
        + "/webhooks/twilio/"
        + tenantId
        + "/"
        + kind
        + "?ref="
        + URLEncoder.encode(idempotencyKey, StandardCharsets.UTF_8);
  }
}
