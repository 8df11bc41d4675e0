package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * The webhooks the twins post to the engine, shaped and signed as each provider does it, and the
 * HTTP client that posts them: Twilio form posts with {@code X-Twilio-Signature} (and {@code
 * I-Twilio-Idempotency-Token}), SignalHouse JSON with {@code
 * X-SignalHouse-Timestamp/-Signature/-Delivery-Id}.
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

  private static final int MAX_PARSED_URLS = 10_000;

  /**
   * A host connection pool with its request timeout.
   *
   * @param maxConnections the most sockets the pool opens per engine host
   * @param timeout how long one request may wait for its answer
   */
  record Pool(ConnectionPoolSettings settings, int maxConnections, Duration timeout) {}

  private final ActorSystem<?> system;
  private final SandboxSettings credentials;
  private final Http http;
  private final LoggingAdapter log;

  /** Callback URLs parsed once: the engine uses one per tenant and provider. */
  private final Map<String, Uri> uris = new ConcurrentHashMap<>();

  SandboxWebhooks(ActorSystem<?> system, SandboxSettings credentials) {
    this.system = system;
    this.credentials = credentials;
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

  /** Twilio's status callback for {@code message}; the same request on every attempt. */
  HttpRequest twilioStatus(SandboxLogEntry message, String url, String status) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("MessageSid", message.messageId());
    form.put("SmsSid", message.messageId());
    form.put("AccountSid", credentials.twilioAccountSid());
    form.put("From", message.from());
    form.put("To", message.to());
    form.put("MessageStatus", status);
    form.put("SmsStatus", status);
    form.put("ApiVersion", TWILIO_API_VERSION);
    if (status.equals("undelivered")) {
      form.put("ErrorCode", TWILIO_UNDELIVERED_ERROR);
    }
    return twilioForm(url, form)
        .addHeader(
            RawHeader.create(
                "I-Twilio-Idempotency-Token", stableId(message.messageId(), status).toString()));
  }

  /**
   * SignalHouse's status event for {@code message}: the delivery id is the same on every attempt at
   * this (message, status), and each attempt is signed afresh with its own timestamp.
   */
  HttpRequest signalHouseStatus(SandboxLogEntry message, String url, String status) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("messageId", message.messageId());
    data.put("status", status);
    data.put("to", message.to());
    data.put("from", message.from());
    return signalHouseEvent(
        url, "message.status", data, stableId(message.messageId(), status).toString());
  }

  // ---- inbound messages ----

  /**
   * Twilio's incoming-message webhook. {@code optOutType} is Twilio's Advanced Opt-Out field
   * ({@code STOP}, {@code START}, {@code HELP}), or null when the body is no keyword.
   */
  HttpRequest twilioInbound(
      String url,
      String messageSid,
      String from,
      String to,
      String body,
      int segments,
      String optOutType) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("MessageSid", messageSid);
    form.put("SmsSid", messageSid);
    form.put("SmsMessageSid", messageSid);
    form.put("AccountSid", credentials.twilioAccountSid());
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
    return twilioForm(url, form);
  }

  /** SignalHouse's {@code message.received} event, with a fresh delivery id. */
  HttpRequest signalHouseInbound(
      String url, String messageId, String from, String to, String text) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("messageId", messageId);
    data.put("from", from);
    data.put("to", to);
    data.put("text", text);
    return signalHouseEvent(url, "message.received", data, UUID.randomUUID().toString());
  }

  // ---- shapes ----

  private HttpRequest twilioForm(String url, Map<String, String> form) {
    String signature = TwilioSignature.sign(credentials.twilioAuthToken(), url, form);
    return post(url)
        .addHeader(RawHeader.create("X-Twilio-Signature", signature))
        .withEntity(
            HttpEntities.create(ContentTypes.APPLICATION_X_WWW_FORM_URLENCODED, formEncode(form)));
  }

  private HttpRequest signalHouseEvent(
      String url, String event, Map<String, String> data, String deliveryId) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("event", event);
    body.put("data", data);
    String raw;
    try {
      raw = JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    String timestamp = Long.toString(System.currentTimeMillis());
    return post(url)
        .addHeader(RawHeader.create("X-SignalHouse-Timestamp", timestamp))
        .addHeader(
            RawHeader.create(
                "X-SignalHouse-Signature",
                SignalHouseSignature.sign(credentials.signalHouseWebhookSecret(), timestamp, raw)))
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
