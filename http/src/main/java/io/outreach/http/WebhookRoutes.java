package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.outreach.config.Settings;
import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.engine.tenant.TenantId;
import io.outreach.persistence.WebhookReceipts;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provider webhooks (no token: the provider's signature is the credential). Each delivery is
 * verified (constant-time), stored and deduplicated before the 2xx, and processed after; a forged,
 * missing or stale signature gets 403 and stores nothing; a repeat answers 200 and changes
 * nothing. Delivery receipts move their message forward; an inbound message's opt-out or opt-in
 * is applied in the transaction that stores it, before the answer, and the tenant's inbox
 * processes it after.
 */
public final class WebhookRoutes extends ApiDirectives {
  private static final Logger log = LoggerFactory.getLogger(WebhookRoutes.class);
  private final WebhookReceipts receipts;
  private final ConversationWiring conversations;
  private final Settings.Webhooks settings;
  private final java.util.function.Supplier<String> publicUrl;
  private final Clock clock;

  public WebhookRoutes(
      ActorSystem<?> system,
      long maxBodyBytes,
      WebhookReceipts receipts,
      ConversationWiring conversations,
      Settings.Webhooks settings,
      java.util.function.Supplier<String> publicUrl,
      Clock clock) {
    super(system, null, maxBodyBytes);
    this.receipts = receipts;
    this.conversations = conversations;
    this.settings = settings;
    this.publicUrl = publicUrl;
    this.clock = clock;
  }

  public Route route() {
    return pathPrefix(
        "webhooks",
        () ->
            concat(
                path(
                    segment("twilio").slash(segment()).slash("status"),
                    tenant ->
                        post(
                            () ->
                                endpoint(
                                    "POST /webhooks/twilio/{tenantId}/status",
                                    () -> twilio(tenant, (request, params) -> twilioStatus(tenant, request, params))))),
                path(
                    segment("twilio").slash(segment()).slash("sms"),
                    tenant ->
                        post(
                            () ->
                                endpoint(
                                    "POST /webhooks/twilio/{tenantId}/sms",
                                    () -> twilio(tenant, (request, params) -> twilioInbound(tenant, request, params))))),
                path(
                    segment("signalhouse").slash(segment()),
                    tenant ->
                        post(
                            () ->
                                endpoint(
                                    "POST /webhooks/signalhouse/{tenantId}",
                                    () -> signalHouse(tenant))))));
  }

  /**
   * A Twilio webhook: form-encoded, signed over the public URL it called and its sorted params
   * with the tenant's auth token; forged or unsigned ones get 403 and nothing is stored.
   */
  private Route twilio(String tenant, java.util.function.BiFunction<HttpRequest, Map<String, String>, Optional<WebhookReceipts.Receipt>> receipt) {
    return extractRequest(
        request ->
            optionalHeaderValueByName(
                "X-Twilio-Signature",
                signature ->
                    withSizeLimit(
                        maxBodyBytes,
                        () ->
                            entity(
                                Unmarshaller.entityToString(),
                                raw -> {
                                  if (!request.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_X_WWW_FORM_URLENCODED)) {
                                    return problem(Problem.Type.UNSUPPORTED_MEDIA_TYPE.with(
                                        "a Twilio webhook is application/x-www-form-urlencoded"));
                                  }
                                  Optional<Map<String, String>> form = formFields(raw);
                                  if (form.isEmpty()) {
                                    return problem(Problem.Type.MALFORMED.with("the body is not a valid form"));
                                  }
                                  Map<String, String> params = form.get();
                                  if (signature.isEmpty()
                                      || !TwilioSignature.verify(
                                          settings.twilioAuthToken(tenant), signedUrl(request), params, signature.get())) {
                                    return forbidden();
                                  }
                                  if (!TenantId.isValid(tenant)) {
                                    return problem(Problem.Type.NOT_FOUND.with("no such tenant"));
                                  }
                                  return receipt
                                      .apply(request, params)
                                      .map(this::stored)
                                      .orElseGet(() -> problem(Problem.Type.VALIDATION.with("an inbound message needs From and To")));
                                }))));
  }

  private Optional<WebhookReceipts.Receipt> twilioStatus(String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("MessageSid", params.getOrDefault("SmsSid", ""));
    String status = params.getOrDefault("MessageStatus", params.getOrDefault("SmsStatus", ""));
    String key = request.getHeader("I-Twilio-Idempotency-Token").map(h -> h.value()).orElse(sid + ":" + status);
    return Optional.of(
        new WebhookReceipts.Receipt(
            tenant, "twilio", "status", key, params.get("To"), sid, messageRef(request), MessageStatus.fromProvider(status),
            Optional.empty(), toJson(params), toJson(Map.of("status", status))));
  }

  /**
   * An inbound message: deduplicated on Twilio's idempotency token, else its MessageSid; one
   * without its numbers is refused (400) before anything is stored.
   */
  private Optional<WebhookReceipts.Receipt> twilioInbound(String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("MessageSid", params.getOrDefault("SmsSid", ""));
    String key = request.getHeader("I-Twilio-Idempotency-Token").map(h -> h.value()).orElse(sid);
    String from = params.get("From");
    String body = params.getOrDefault("Body", "");
    if (blank(from) || blank(params.get("To")) || blank(key)) {
      return Optional.empty();
    }
    return Optional.of(new WebhookReceipts.Receipt(
        tenant, "twilio", "inbound", key, from, sid, Optional.empty(), Optional.empty(),
        Optional.of(new WebhookReceipts.Inbound(from, params.get("To"), body, InboundEffect.keyword(body, params.get("OptOutType")))),
        toJson(params), toJson(Map.of("messageSid", sid))));
  }

  /**
   * The fields of an {@code application/x-www-form-urlencoded} body, sorted by name (as Twilio
   * signs them; a repeated name keeps its last value); empty when an escape is malformed. Parsed
   * here rather than by the form-field directive, which costs a fifth of the engine's CPU under
   * webhook load (it tries each form unmarshaller and materializes a stream per request).
   */
  static Optional<Map<String, String>> formFields(String raw) {
    Map<String, String> fields = new TreeMap<>();
    try {
      for (String pair : raw.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        fields.put(name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(fields);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private Route signalHouse(String tenant) {
    return extractRequest(request -> optionalHeaderValueByName(
        "X-SignalHouse-Signature",
        signature ->
            optionalHeaderValueByName(
                "X-SignalHouse-Timestamp",
                timestamp ->
                    optionalHeaderValueByName(
                        "X-SignalHouse-Delivery-Id",
                        delivery ->
                            withSizeLimit(
                                maxBodyBytes,
                                () ->
                                    entity(
                                        Unmarshaller.entityToString(),
                                        raw -> {
                                          if (signature.isEmpty()
                                              || timestamp.isEmpty()
                                              || !SignalHouseSignature.verify(
                                                  settings.signalHouseSecret(tenant), timestamp.get(), raw,
                                                  signature.get(), clock.instant(), SignalHouseSignature.MAX_AGE)) {
                                            return forbidden();
                                          }
                                          if (!TenantId.isValid(tenant)) {
                                            return problem(Problem.Type.NOT_FOUND.with("no such tenant"));
                                          }
                                          JsonNode body;
                                          try {
                                            body = mapper.readTree(raw);
                                          } catch (JsonProcessingException e) {
                                            return problem(Problem.Type.MALFORMED.with("the body is not JSON"));
                                          }
                                          String messageId = body.path("data").path("messageId").asText("");
                                          String status = body.path("data").path("status").asText("");
                                          String key = delivery.orElse(messageId + ":" + status);
                                          String event = body.path("event").asText("");
                                          boolean inbound = event.equals("message.received");
                                          String phone = body.path("data").path(inbound ? "from" : "to").asText(null);
                                          String text = body.path("data").path("text").asText("");
                                          if (inbound && (blank(phone) || blank(body.path("data").path("to").asText(null)))) {
                                            return problem(Problem.Type.VALIDATION.with("an inbound message needs data.from and data.to"));
                                          }
                                          return stored(
                                              new WebhookReceipts.Receipt(
                                                  tenant, "signalhouse", inbound ? "inbound" : "status", key, phone,
                                                  messageId, inbound ? Optional.empty() : messageRef(request),
                                                  inbound ? Optional.empty() : MessageStatus.fromProvider(status),
                                                  inbound
                                                      ? Optional.of(new WebhookReceipts.Inbound(
                                                          phone, body.path("data").path("to").asText(null), text,
                                                          InboundEffect.keyword(text, null)))
                                                      : Optional.empty(),
                                                  raw, toJson(Map.of("event", event, "status", status))));
                                        }))))));
  }

  /**
   * Answers 200 once the delivery is stored (or was stored before), and for an opt-out once the
   * calls to the person that started before it have reached their provider; 503 when the inbox is
   * full.
   */
  private Route stored(WebhookReceipts.Receipt receipt) {
    return onComplete(
        receipts.store(receipt)
            .thenCompose(
                st -> st.effect() == InboundEffect.OPTED_OUT
                    ? conversations.silenced(receipt.tenantId(), receipt.phone()).thenApply(x -> st)
                    : java.util.concurrent.CompletableFuture.completedFuture(st)),
        result -> {
          if (result.isSuccess()) {
            // Stored (and an opt-out applied) first; the tenant's inbox processes it after.
            if (result.get().isNew() && receipt.inbound().isPresent()) {
              conversations.wakeInbox(receipt.tenantId());
            }
            return complete(StatusCodes.OK);
          }
          log.warn("webhook from {} for tenant {} not stored: {}", receipt.provider(), receipt.tenantId(), result.failed().get().toString());
          return problem(
              Problem.Type.UNAVAILABLE.with("the delivery could not be stored; retry later"),
              RetryAfter.create(1L));
        });
  }

  /** The message our status-callback URL names ({@code ?ref=campaignId:recipient:step}). */
  private static Optional<WebhookReceipts.MessageRef> messageRef(HttpRequest request) {
    return request.getUri().query().get("ref").flatMap(WebhookReceipts.MessageRef::parse);
  }

  private Route forbidden() {
    return problem(Problem.Type.FORBIDDEN.with("the webhook signature is missing, wrong or stale"));
  }

  /** The URL the provider called, as it signed it: the public base URL, or a trusted proxy's. */
  private String signedUrl(HttpRequest request) {
    String base = publicUrl.get();
    if (settings.trustForwardedHeaders()) {
      Optional<String> proto = request.getHeader("X-Forwarded-Proto").map(h -> h.value());
      Optional<String> host = request.getHeader("X-Forwarded-Host").map(h -> h.value());
      if (proto.isPresent() && host.isPresent()) {
        base = proto.get() + "://" + host.get();
      }
    }
    String query = request.getUri().rawQueryString().map(q -> "?" + q).orElse("");
    return base + request.getUri().path() + query;
  }

  private String toJson(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
