package io.outreach.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.config.Settings;
import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.outbound.ConversationOutbound;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import io.outreach.engine.tenant.TenantId;
import io.outreach.http.provider.TenantAccounts;
import io.outreach.persistence.WebhookReceipts;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provider webhooks (no token: the provider's signature is the credential). Each delivery is
 * verified (constant-time), stored and deduplicated before the 2xx, and processed after; a forged,
 * missing or stale signature gets 403 and stores nothing; a repeat answers 200 and changes nothing.
 * Delivery receipts move their message forward; an inbound message's opt-out or opt-in is applied
 * in the transaction that stores it, before the answer, and the tenant's inbox processes it after.
 *
 * <p>Served ahead of the route tree ({@link ApiServer.DirectEndpoint}): these are the busiest
 * requests (two receipts per message sent, and every reply), and a flight recording put two fifths
 * of the engine's CPU under webhook load in the routing directives. The answers are the same
 * problem+json, access log, request id and timer as every route's, through {@link ApiServer}.
 */
public final class WebhookEndpoints implements ApiServer.DirectEndpoint {
  private static final Logger log = LoggerFactory.getLogger(WebhookEndpoints.class);
  static final String TWILIO_STATUS = "POST /webhooks/twilio/{tenantId}/status";
  static final String TWILIO_SMS = "POST /webhooks/twilio/{tenantId}/sms";
  static final String TWILIO_CALL_STATUS = "POST /webhooks/twilio/{tenantId}/call-status";
  static final String TWILIO_GATHER = "POST /webhooks/twilio/{tenantId}/gather";
  static final String SIGNALHOUSE = "POST /webhooks/signalhouse/{tenantId}";

  /** How long a body that did not arrive with its headers may take to arrive. */
  private static final long BODY_TIMEOUT_MS = 10_000;

  /**
   * Twilio's answer to an inbound message: empty TwiML. Twilio sends a plain-text answer body to
   * the person as a reply, so "OK" would text everyone who writes, including after a STOP.
   */
  private static final HttpResponse EMPTY_TWIML =
      HttpResponse.create()
          .withEntity(
              ContentTypes.TEXT_XML_UTF8, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");

  private static final HttpResponse STORED = HttpResponse.create();

  private final ActorSystem<?> system;
  private final ObjectMapper mapper;
  private final long maxBodyBytes;
  private final WebhookReceipts receipts;
  private final ConversationOutbound conversations;
  private final TenantAccounts accounts;
  private final Settings.Webhooks settings;
  private final Supplier<String> publicUrl;
  private final Clock clock;
  private final CallWebhooks calls;

  public WebhookEndpoints(
      ActorSystem<?> system,
      long maxBodyBytes,
      WebhookReceipts receipts,
      ConversationOutbound conversations,
      TenantAccounts accounts,
      Settings.Webhooks settings,
      Supplier<String> publicUrl,
      Clock clock,
      io.outreach.engine.outbound.CallOutcomes callOutcomes,
      String optOutDigit) {
    this.system = system;
    this.mapper = ApiDirectives.jsonMapper(system);
    this.maxBodyBytes = maxBodyBytes;
    this.receipts = receipts;
    this.conversations = conversations;
    this.accounts = accounts;
    this.settings = settings;
    this.publicUrl = publicUrl;
    this.clock = clock;
    this.calls = new CallWebhooks(callOutcomes, optOutDigit, this::toJson);
  }

  @Override
  public String template(HttpRequest request) {
    String path = request.getUri().path();
    if (!path.startsWith("/webhooks/")) {
      return null;
    }
    String[] s = path.split("/", -1);
    // "", "webhooks", provider, tenant[, kind]
    if (s.length == 5 && s[2].equals("twilio") && !s[3].isEmpty()) {
      return switch (s[4]) {
        case "status" -> TWILIO_STATUS;
        case "sms" -> TWILIO_SMS;
        case "call-status" -> TWILIO_CALL_STATUS;
        case "gather" -> TWILIO_GATHER;
        default -> null;
      };
    }
    return s.length == 4 && s[2].equals("signalhouse") && !s[3].isEmpty() ? SIGNALHOUSE : null;
  }

  @Override
  public CompletionStage<HttpResponse> serve(
      String template, HttpRequest request, RequestTrace trace) {
    if (!request.method().equals(HttpMethods.POST)) {
      request.discardEntityBytes(system);
      return done(
          problem(Problem.Type.METHOD_NOT_ALLOWED.with("a webhook is a POST"))
              .addHeader(Allow.create(HttpMethods.POST)));
    }
    String tenant = request.getUri().path().split("/", -1)[3];
    if (TenantId.isValid(tenant)) {
      trace.tenant = tenant;
    }
    return body(request)
        .thenCompose(
            raw ->
                switch (template) {
                  case TWILIO_STATUS -> twilio(tenant, request, raw, this::twilioStatus);
                  case TWILIO_SMS -> twilio(tenant, request, raw, this::twilioInbound);
                  case TWILIO_CALL_STATUS ->
                      twilio(tenant, request, raw, calls::status, calls::statusStored);
                  case TWILIO_GATHER ->
                      twilio(tenant, request, raw, calls::gather, calls::gatherStored);
                  default -> signalHouse(tenant, request, raw);
                });
  }

  /** The body as text, at most {@code maxBodyBytes}; a longer one fails with 413. */
  private CompletionStage<String> body(HttpRequest request) {
    HttpEntity entity = request.entity();
    Charset charset =
        entity
            .getContentType()
            .getCharsetOption()
            .map(c -> c.nioCharset())
            .orElse(StandardCharsets.UTF_8);
    if (entity.getContentLengthOption().orElse(0L) > maxBodyBytes) {
      request.discardEntityBytes(system);
      return CompletableFuture.failedFuture(
          new ProblemException(
              Problem.Type.PAYLOAD_TOO_LARGE.with(
                  "the request body exceeds the limit of " + maxBodyBytes + " bytes")));
    }
    if (entity instanceof HttpEntity.Strict strict) {
      return done(strict.getData().decodeString(charset));
    }
    // A body of unknown length (chunked) past the limit fails with EntityStreamSizeException: 413.
    return entity
        .withSizeLimit(maxBodyBytes)
        .toStrict(BODY_TIMEOUT_MS, system)
        .thenApply(s -> s.getData().decodeString(charset));
  }

  /** What a Twilio webhook of one kind stores, from its request and its (signed) params. */
  private interface TwilioReceipt {
    Optional<WebhookReceipts.Receipt> of(
        String tenant, HttpRequest request, Map<String, String> params);
  }

  /**
   * A Twilio webhook: form-encoded, signed over the public URL it called and its sorted params with
   * the tenant's auth token; forged or unsigned ones get 403 and nothing is stored.
   */
  private CompletionStage<HttpResponse> twilio(
      String tenant, HttpRequest request, String raw, TwilioReceipt receipt) {
    return twilio(
        tenant,
        request,
        raw,
        receipt,
        (r, st) -> done(r.inbound().isPresent() ? EMPTY_TWIML : STORED));
  }

  /** What to answer once a delivery is stored (or found stored before). */
  private interface StoredAnswer {
    CompletionStage<HttpResponse> answer(WebhookReceipts.Receipt r, WebhookReceipts.Stored stored);
  }

  private CompletionStage<HttpResponse> twilio(
      String tenant, HttpRequest request, String raw, TwilioReceipt receipt, StoredAnswer answer) {
    if (!request
        .entity()
        .getContentType()
        .mediaType()
        .equals(MediaTypes.APPLICATION_X_WWW_FORM_URLENCODED)) {
      return done(
          problem(
              Problem.Type.UNSUPPORTED_MEDIA_TYPE.with(
                  "a Twilio webhook is application/x-www-form-urlencoded")));
    }
    Optional<Map<String, String>> form = formFields(raw);
    if (form.isEmpty()) {
      return done(problem(Problem.Type.MALFORMED.with("the body is not a valid form")));
    }
    Map<String, String> params = form.get();
    Optional<String> signature = header(request, "X-Twilio-Signature");
    return verified(
        tenant,
        "twilio",
        fields ->
            signature.isPresent()
                && fields.containsKey("authToken")
                && TwilioSignature.verify(
                    fields.get("authToken"), signedUrl(request), params, signature.get()),
        () ->
            receipt
                .of(tenant, request, params)
                .map(r -> stored(r, answer))
                .orElseGet(
                    () ->
                        done(
                            problem(
                                Problem.Type.VALIDATION.with(
                                    "a Twilio webhook needs its sid, From and To")))));
  }

  /**
   * Runs {@code then} for a delivery to a tenant that exists and whose signature {@code signed}
   * verifies with the tenant's account at {@code provider} (or, in sandbox mode, the twin's test
   * account): an unknown tenant is 404, a forged or unsigned delivery 403; nothing is stored.
   */
  private CompletionStage<HttpResponse> verified(
      String tenant,
      String provider,
      java.util.function.Predicate<Map<String, String>> signed,
      Supplier<CompletionStage<HttpResponse>> then) {
    if (!TenantId.isValid(tenant)) {
      return done(problem(Problem.Type.NOT_FOUND.with("no such tenant")));
    }
    return accounts
        .exists(tenant)
        .thenCompose(
            exists ->
                !exists
                    ? done(problem(Problem.Type.NOT_FOUND.with("no such tenant")))
                    : accounts
                        .effectiveAsync(tenant, provider)
                        .thenCompose(
                            fields ->
                                fields.isPresent() && signed.test(fields.get())
                                    ? then.get()
                                    : done(forbidden())));
  }

  private Optional<WebhookReceipts.Receipt> twilioStatus(
      String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("MessageSid", params.getOrDefault("SmsSid", ""));
    String status = params.getOrDefault("MessageStatus", params.getOrDefault("SmsStatus", ""));
    // The key of a receipt is signed content: a replay under a new unsigned header is the same.
    String key = sid + ":" + status;
    return Optional.of(
        new WebhookReceipts.Receipt(
            tenant,
            "twilio",
            "status",
            key,
            params.get("To"),
            sid,
            messageRef(request),
            MessageStatus.fromProvider(status),
            Optional.empty(),
            toJson(params),
            toJson(Map.of("status", status))));
  }

  /**
   * An inbound message: deduplicated on its (signed) MessageSid; one without its numbers is refused
   * (400) before anything is stored.
   */
  private Optional<WebhookReceipts.Receipt> twilioInbound(
      String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("MessageSid", params.getOrDefault("SmsSid", ""));
    String key = sid;
    String from = params.get("From");
    String body = params.getOrDefault("Body", "");
    if (blank(from) || blank(params.get("To")) || blank(key)) {
      return Optional.empty();
    }
    return Optional.of(
        new WebhookReceipts.Receipt(
            tenant,
            "twilio",
            "inbound",
            key,
            from,
            sid,
            Optional.empty(),
            Optional.empty(),
            Optional.of(
                new WebhookReceipts.Inbound(
                    from,
                    params.get("To"),
                    body,
                    InboundEffect.keyword(body, params.get("OptOutType")))),
            toJson(params),
            toJson(Map.of("messageSid", sid))));
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
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        fields.put(
            name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(fields);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  /**
   * A SignalHouse webhook: JSON in SignalHouse's envelope {@code {timestamp, event, identifier,
   * metaData}}, signed with HMAC-SHA256 over its millisecond timestamp and raw body. {@code
   * MESSAGE_RECEIVED} is an inbound message ({@code metaData.Message}: {@code senderPhoneNumber},
   * {@code recipientPhoneNumber}, {@code messageBody}); {@code MESSAGE_DELIVERED} and {@code
   * MESSAGE_FAILED} are receipts of the message {@code identifier} ({@code metaData}: the message
   * document, its {@code status} and {@code successOrFailureReason}). Other events are acknowledged
   * and not stored. Numbers come as digits only.
   */
  private CompletionStage<HttpResponse> signalHouse(
      String tenant, HttpRequest request, String raw) {
    Optional<String> signature = header(request, "X-SignalHouse-Signature");
    Optional<String> timestamp = header(request, "X-SignalHouse-Timestamp");
    return verified(
        tenant,
        "signalhouse",
        fields ->
            signature.isPresent()
                && timestamp.isPresent()
                && fields.containsKey("webhookSecret")
                && SignalHouseSignature.verify(
                    fields.get("webhookSecret"),
                    timestamp.get(),
                    raw,
                    signature.get(),
                    clock.instant(),
                    SignalHouseSignature.MAX_AGE),
        () -> signalHouseEvent(tenant, request, raw));
  }

  private CompletionStage<HttpResponse> signalHouseEvent(
      String tenant, HttpRequest request, String raw) {
    JsonNode body;
    try {
      body = mapper.readTree(raw);
    } catch (JsonProcessingException e) {
      return done(problem(Problem.Type.MALFORMED.with("the body is not JSON")));
    }
    String event = body.path("event").asText("");
    String identifier = body.path("identifier").asText("");
    JsonNode meta = body.path("metaData");
    boolean inbound = event.equals("MESSAGE_RECEIVED");
    if (!inbound && !event.equals("MESSAGE_DELIVERED") && !event.equals("MESSAGE_FAILED")) {
      return done(STORED); // an event the engine does not use: acknowledged, not stored
    }
    if (blank(identifier)) {
      return done(problem(Problem.Type.VALIDATION.with("a SignalHouse event needs identifier")));
    }
    // The key of a delivery is signed content: a replay under a new unsigned header is the same.
    String key = event + ":" + identifier;
    if (inbound) {
      JsonNode message = meta.path("Message");
      String from = e164(message.path("senderPhoneNumber").asText(null));
      String to = e164(message.path("recipientPhoneNumber").asText(null));
      String text = message.path("messageBody").asText("");
      if (blank(from) || blank(to)) {
        return done(
            problem(
                Problem.Type.VALIDATION.with(
                    "an inbound message needs metaData.Message.senderPhoneNumber and"
                        + " recipientPhoneNumber")));
      }
      return stored(
          new WebhookReceipts.Receipt(
              tenant,
              "signalhouse",
              "inbound",
              key,
              from,
              identifier,
              Optional.empty(),
              Optional.empty(),
              Optional.of(
                  new WebhookReceipts.Inbound(from, to, text, InboundEffect.keyword(text, null))),
              raw,
              toJson(Map.of("event", event))),
          STORED);
    }
    String status = event.equals("MESSAGE_DELIVERED") ? "delivered" : "failed";
    return stored(
        new WebhookReceipts.Receipt(
            tenant,
            "signalhouse",
            "status",
            key,
            e164(meta.path("recipientPhoneNumber").asText(null)),
            identifier,
            messageRef(request),
            MessageStatus.fromProvider(status),
            Optional.empty(),
            raw,
            toJson(
                Map.of("event", event, "reason", meta.path("successOrFailureReason").asText("")))),
        STORED);
  }

  /** A SignalHouse number (digits only) in E.164; null stays null. */
  static String e164(String digits) {
    if (digits == null || digits.isBlank()) {
      return null;
    }
    return digits.startsWith("+") ? digits : "+" + digits;
  }

  /**
   * Answers {@code ok} once the delivery is stored (or was stored before), and for an opt-out once
   * the calls to the person that started before it have reached their provider; 503 when the inbox
   * is full or the store failed.
   */
  private CompletionStage<HttpResponse> stored(WebhookReceipts.Receipt receipt, HttpResponse ok) {
    return stored(receipt, (r, st) -> done(ok));
  }

  private CompletionStage<HttpResponse> stored(
      WebhookReceipts.Receipt receipt, StoredAnswer answer) {
    return receipts
        .store(receipt)
        .thenCompose(
            st ->
                st.effect() == InboundEffect.OPTED_OUT
                    ? conversations.silenced(receipt.tenantId(), receipt.phone()).thenApply(x -> st)
                    : CompletableFuture.completedFuture(st))
        .thenCompose(
            st -> {
              // Stored (and an opt-out applied) first; the tenant's inbox processes it after.
              if (st.isNew() && receipt.inbound().isPresent()) {
                conversations.wakeInbox(receipt.tenantId());
              }
              return answer.answer(receipt, st);
            })
        .handle(
            (response, error) -> {
              if (error == null) {
                return response;
              }
              log.warn(
                  "webhook from {} for tenant {} not stored: {}",
                  receipt.provider(),
                  receipt.tenantId(),
                  error.toString());
              return problem(
                  Problem.Type.UNAVAILABLE.with("the delivery could not be stored; retry later"));
            });
  }

  /** The message our status-callback URL names ({@code ?ref=campaignId:recipient:step}). */
  private static Optional<WebhookReceipts.MessageRef> messageRef(HttpRequest request) {
    return request.getUri().query().get("ref").flatMap(WebhookReceipts.MessageRef::parse);
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(h -> h.value());
  }

  private HttpResponse forbidden() {
    return problem(Problem.Type.FORBIDDEN.with("the webhook signature is missing, wrong or stale"));
  }

  private HttpResponse problem(Problem p) {
    return ApiDirectives.problemResponse(mapper, p);
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  /** The URL the provider called, as it signed it: the public base URL, or a trusted proxy's. */
  private String signedUrl(HttpRequest request) {
    String base = publicUrl.get();
    if (settings.trustForwardedHeaders()) {
      Optional<String> proto = header(request, "X-Forwarded-Proto");
      Optional<String> host = header(request, "X-Forwarded-Host");
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
