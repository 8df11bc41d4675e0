package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.message.Segments;
import io.outreach.engine.provider.SignalHouseSignature;
import io.outreach.engine.provider.TwilioSignature;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;

/**
 * The webhooks the twins post to the engine, shaped and signed as each provider does it with the
 * secret of the account concerned, and the HTTP client that posts them: Twilio form posts with
 * {@code X-Twilio-Signature} (and {@code I-Twilio-Idempotency-Token}); SignalHouse JSON in its
 * envelope {@code {timestamp, event, identifier, metaData}} with {@code
 * X-SignalHouse-Timestamp/-Signature/-Delivery-Id}, numbers as digits only.
 *
 * <p>Posts go through Pekko HTTP host connection pools (keep-alive, at most {@link
 * Pool#maxConnections} sockets each) on the actor system's own dispatcher: measured on 2 cores it
 * costs about half the CPU per request of {@code java.net.http.HttpClient}, whose default executor
 * also grows a thread per concurrent request. A pool has no per-request timeout, so each pool's
 * connection idle timeout is its provider's request timeout (a request with no answer for that long
 * closes its connection and fails), with a future timeout behind it.
 */
final class SandboxWebhooks {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TWILIO_API_VERSION = "2010-04-01";

  /** Twilio's "Unreachable destination handset", the commonest cause of {@code undelivered}. */
  static final String TWILIO_UNDELIVERED_ERROR = "30003";

  /** The reason a SignalHouse message the faults fail gives in {@code successOrFailureReason}. */
  static final String SIGNALHOUSE_UNDELIVERED_REASON = "Unreachable destination handset";

  private static final int MAX_PARSED_URLS = 10_000;

  /**
   * A host connection pool with its request timeout.
   *
   * @param maxConnections the most sockets the pool opens per engine host
   * @param timeout how long one request may wait for its answer
   */
  record Pool(ConnectionPoolSettings settings, int maxConnections, Duration timeout) {}

  private final ActorSystem<?> system;
  private final Http http;
  private final LoggingAdapter log;

  /** Callback URLs parsed once: the engine uses one per tenant and provider. */
  private final Map<String, Uri> uris = new ConcurrentHashMap<>();

  SandboxWebhooks(ActorSystem<?> system) {
    this.system = system;
    this.http = Http.get(system);
    this.log = system.classicSystem().log();
  }

  /**
   * A pool of up to {@code maxConnections} kept-alive connections whose requests fail after {@code
   * timeout} without an answer. Settings that are equal share one pool per host.
   */
  Pool pool(int maxConnections, Duration timeout) {
    ConnectionPoolSettings settings =
        ConnectionPoolSettings.create(system.classicSystem())
            .withMaxConnections(maxConnections)
            // Room for every caller (a power of two): the pool refuses requests beyond it at once.
            .withMaxOpenRequests(Integer.highestOneBit(Math.max(1024, maxConnections * 4) - 1) << 1)
            // The twins retry as their provider does; the pool never retries on its own.
            .withMaxRetries(0)
            // An engine that restarts gets its receipts within a second of coming back.
            .withBaseConnectionBackoff(Duration.ofMillis(100))
            .withMaxConnectionBackoff(Duration.ofSeconds(1))
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withIdleTimeout(timeout)
                    .withConnectingTimeout(timeout));
    return new Pool(settings, maxConnections, timeout);
  }

  /** Posts {@code request}: its status code, or a failure when it got no answer in time. */
  CompletionStage<Integer> post(HttpRequest request, Pool pool) {
    return http.singleRequest(request, http.defaultClientHttpsContext(), pool.settings(), log)
        .thenApply(
            response -> {
              response.discardEntityBytes(system);
              return response.status().intValue();
            })
        .toCompletableFuture()
        // Behind the connection's idle timeout, which normally fires first and frees the socket.
        .orTimeout(pool.timeout().toMillis() + 2_000, TimeUnit.MILLISECONDS);
  }

  // ---- delivery receipts ----

  /**
   * Twilio's status callback for {@code message}, sent by {@code account}; the same request on
   * every attempt.
   */
  HttpRequest twilioStatus(
      SandboxLogEntry message, String url, String status, SandboxAccounts.Account account) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("MessageSid", message.messageId());
    form.put("SmsSid", message.messageId());
    form.put("AccountSid", account.id());
    form.put("From", message.from());
    form.put("To", message.to());
    form.put("MessageStatus", status);
    form.put("SmsStatus", status);
    form.put("ApiVersion", TWILIO_API_VERSION);
    if (status.equals("undelivered")) {
      form.put("ErrorCode", TWILIO_UNDELIVERED_ERROR);
    }
    return twilioForm(url, form, account)
        .addHeader(
            RawHeader.create(
                "I-Twilio-Idempotency-Token", stableId(message.messageId(), status).toString()));
  }

  /**
   * SignalHouse's {@code MESSAGE_DELIVERED} (or {@code MESSAGE_FAILED}) event for {@code message},
   * which happened at {@code eventAt} (epoch ms): {@code identifier} is the message id and {@code
   * metaData} the flat message document. The body and delivery id are the same on every attempt;
   * each attempt is signed afresh with its own timestamp header.
   */
  HttpRequest signalHouseStatus(
      SandboxLogEntry message,
      String url,
      boolean delivered,
      long eventAt,
      SandboxAccounts.Account account) {
    String event = delivered ? "MESSAGE_DELIVERED" : "MESSAGE_FAILED";
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("_id", message.messageId());
    meta.put("status", delivered ? "DELIVERED" : "FAILED");
    meta.put("senderPhoneNumber", SignalHouseTwin.digits(message.from()));
    meta.put("recipientPhoneNumber", SignalHouseTwin.digits(message.to()));
    meta.put("segmentCount", Segments.count(message.body()).segments());
    meta.put("successOrFailureReason", delivered ? null : SIGNALHOUSE_UNDELIVERED_REASON);
    return signalHouseEvent(
        url,
        eventAt,
        event,
        message.messageId(),
        meta,
        stableId(message.messageId(), event).toString(),
        account);
  }

  // ---- inbound messages ----

  /**
   * Twilio's incoming-message webhook to {@code account}. {@code optOutType} is Twilio's Advanced
   * Opt-Out field ({@code STOP}, {@code START}, {@code HELP}), or null when the body is no keyword.
   */
  HttpRequest twilioInbound(
      String url,
      String messageSid,
      String from,
      String to,
      String body,
      int segments,
      String optOutType,
      SandboxAccounts.Account account) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("MessageSid", messageSid);
    form.put("SmsSid", messageSid);
    form.put("SmsMessageSid", messageSid);
    form.put("AccountSid", account.id());
    form.put("From", from);
    form.put("To", to);
    form.put("Body", body);
    form.put("NumMedia", "0");
    form.put("NumSegments", Integer.toString(segments));
    form.put("SmsStatus", "received");
    form.put("ApiVersion", TWILIO_API_VERSION);
    if (optOutType != null) {
      form.put("OptOutType", optOutType);
    }
    return twilioForm(url, form, account);
  }

  /**
   * SignalHouse's {@code MESSAGE_RECEIVED} event to {@code account}, with a fresh delivery id:
   * {@code metaData.Message} holds the inbound message, numbers as digits.
   */
  HttpRequest signalHouseInbound(
      String url,
      String messageId,
      String from,
      String to,
      String text,
      SandboxAccounts.Account account) {
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("direction", "INBOUND");
    message.put("senderPhoneNumber", digitsOf(from));
    message.put("recipientPhoneNumber", digitsOf(to));
    message.put("messageBody", text);
    return signalHouseEvent(
        url,
        System.currentTimeMillis(),
        "MESSAGE_RECEIVED",
        messageId,
        Map.of("Message", message),
        UUID.randomUUID().toString(),
        account);
  }

  /** A number as SignalHouse writes it: its digits. */
  private static String digitsOf(String number) {
    return number.replaceAll("\\D", "");
  }

  // ---- shapes ----

  /**
   * A Twilio voice webhook (a call's status callback, a gather's answer) to {@code url}, signed
   * with {@code account}'s auth token as every Twilio webhook is.
   */
  HttpRequest twilioVoice(String url, Map<String, String> form, SandboxAccounts.Account account) {
    return twilioForm(url, form, account);
  }

  private HttpRequest twilioForm(
      String url, Map<String, String> form, SandboxAccounts.Account account) {
    String signature = TwilioSignature.sign(account.signingSecret(), url, form);
    return post(url)
        .addHeader(RawHeader.create("X-Twilio-Signature", signature))
        .withEntity(
            HttpEntities.create(ContentTypes.APPLICATION_X_WWW_FORM_URLENCODED, formEncode(form)));
  }

  private HttpRequest signalHouseEvent(
      String url,
      long timestamp,
      String event,
      String identifier,
      Map<String, Object> metaData,
      String deliveryId,
      SandboxAccounts.Account account) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("timestamp", timestamp);
    body.put("event", event);
    body.put("identifier", identifier);
    body.put("metaData", metaData);
    String raw;
    try {
      raw = JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    String signedAt = Long.toString(System.currentTimeMillis());
    return post(url)
        .addHeader(RawHeader.create("X-SignalHouse-Timestamp", signedAt))
        .addHeader(
            RawHeader.create(
                "X-SignalHouse-Signature",
                SignalHouseSignature.sign(account.signingSecret(), signedAt, raw)))
        .addHeader(RawHeader.create("X-SignalHouse-Delivery-Id", deliveryId))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, raw));
  }

  private HttpRequest post(String url) {
    Uri uri = uris.get(url);
    if (uri == null) {
      uri = Uri.create(url);
      if (uris.size() < MAX_PARSED_URLS) {
        uris.put(url, uri);
      }
    }
    return HttpRequest.create().withMethod(HttpMethods.POST).withUri(uri);
  }

  /** An id derived from the receipt, so retries repeat it without it being stored anywhere. */
  private static UUID stableId(String messageId, String status) {
    return UUID.nameUUIDFromBytes((messageId + "/" + status).getBytes(StandardCharsets.UTF_8));
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
