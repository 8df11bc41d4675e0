package io.outreach.http;

import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.message.OptOutKeywords;
import io.outreach.engine.outbound.CallOutcomes;
import io.outreach.engine.spend.CallMinutes;
import io.outreach.persistence.WebhookReceipts;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Twilio's webhooks about the engine's calls, verified and stored by {@link WebhookEndpoints} like
 * every Twilio webhook: a call's status callbacks ({@code /webhooks/twilio/{tenant}/call-status})
 * and the key pressed or words spoken after its message ({@code /webhooks/twilio/{tenant}/gather}).
 *
 * <ul>
 *   <li>A status callback is deduplicated on its (signed) {@code CallSid} and {@code
 *       SequenceNumber}: a repeat changes nothing, and one older than the latest stored moves
 *       nothing ({@code CallRows}). Its status moves the call's message forward (answered: {@code
 *       delivered}; busy, no answer: {@code undelivered}; failed, canceled: {@code failed}). A
 *       final status charges the call's started minutes ({@code Duration}) and frees its place
 *       among the account's live calls ({@link CallOutcomes}) before the answer, also when it is a
 *       repeat (the charge counts once), so a charge that failed is made when Twilio retries.
 *   <li>A gather with the opt-out key, or an opt-out word among the words spoken, opts the number
 *       out of the whole tenant (texts too) in the transaction that stores it, and is answered with
 *       TwiML that confirms it and hangs up.
 * </ul>
 */
final class CallWebhooks {
  static final Set<String> FINAL = Set.of("completed", "busy", "no-answer", "failed", "canceled");
  private static final Pattern WORDS = Pattern.compile("[^\\p{L}']+");
  private static final HttpResponse STORED = HttpResponse.create();
  private static final HttpResponse HANG_UP = twiml("<Hangup/>");
  private static final HttpResponse OPTED_OUT =
      twiml("<Say>You will not be called or texted again. Goodbye.</Say><Hangup/>");

  private final CallOutcomes outcomes;
  private final String optOutDigit;
  private final Function<Object, String> json;

  CallWebhooks(CallOutcomes outcomes, String optOutDigit, Function<Object, String> json) {
    this.outcomes = outcomes;
    this.optOutDigit = optOutDigit;
    this.json = json;
  }

  /** What a call's status callback stores; empty when it names no call. */
  Optional<WebhookReceipts.Receipt> status(
      String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("CallSid", "");
    String status = params.getOrDefault("CallStatus", "").trim().toLowerCase(Locale.ROOT);
    if (sid.isBlank() || status.isEmpty()) {
      return Optional.empty();
    }
    Integer sequence = integer(params.get("SequenceNumber"));
    Integer seconds = integer(params.get("CallDuration"));
    Integer billed = integer(params.get("Duration"));
    if (billed == null && seconds != null && status.equals("completed")) {
      billed = (int) CallMinutes.billed(seconds);
    }
    // The key is signed content: a retry is the same; SequenceNumber tells the callbacks apart.
    String key = sid + ":" + (sequence != null ? sequence : status);
    Optional<WebhookReceipts.MessageRef> ref = ref(request);
    return Optional.of(
        new WebhookReceipts.Receipt(
            tenant,
            "twilio",
            "call-status",
            key,
            params.get("To"),
            sid,
            ref,
            messageStatus(status),
            Optional.empty(),
            json.apply(params),
            json.apply(Map.of("callStatus", status)),
            Optional.of(
                new WebhookReceipts.CallProgress(
                    sid,
                    status,
                    sequence == null ? order(status) : sequence,
                    seconds,
                    FINAL.contains(status) ? (billed == null ? 0 : billed) : null,
                    params.get("AnsweredBy")))));
  }

  /** Stored: a final status is charged and frees its live call before the 200. */
  CompletionStage<HttpResponse> statusStored(
      WebhookReceipts.Receipt r, WebhookReceipts.Stored stored) {
    WebhookReceipts.CallProgress call = r.call().orElseThrow();
    if (!FINAL.contains(call.status()) || r.ref().isEmpty()) {
      return CompletableFuture.completedFuture(STORED);
    }
    WebhookReceipts.MessageRef ref = r.ref().get();
    long minutes =
        call.status().equals("completed") && call.billedMinutes() != null
            ? call.billedMinutes()
            : 0;
    return outcomes
        .ended(r.tenantId(), "twilio", ref.campaignId(), ref.recipient(), ref.step(), minutes)
        .thenApply(x -> STORED);
  }

  /** What a gather stores: the key or words, an opt-out when they say so. */
  Optional<WebhookReceipts.Receipt> gather(
      String tenant, HttpRequest request, Map<String, String> params) {
    String sid = params.getOrDefault("CallSid", "");
    // The engine placed the call: To is the person.
    String person = params.get("To");
    if (sid.isBlank() || person == null || person.isBlank()) {
      return Optional.empty();
    }
    String digits = params.getOrDefault("Digits", "").trim();
    String speech = params.getOrDefault("SpeechResult", "").trim();
    boolean optOut = digits.equals(optOutDigit) || saysOptOut(speech);
    String said = !digits.isEmpty() ? "keypad " + digits : "said: " + speech;
    return Optional.of(
        new WebhookReceipts.Receipt(
            tenant,
            "twilio",
            "gather",
            "gather:" + sid,
            person,
            sid,
            ref(request),
            Optional.empty(),
            Optional.of(
                new WebhookReceipts.Inbound(
                    person,
                    params.get("From"),
                    said,
                    optOut
                        ? Optional.of(OptOutKeywords.Keyword.OPT_OUT)
                        : Optional.<OptOutKeywords.Keyword>empty())),
            json.apply(params),
            json.apply(Map.of("callSid", sid, "optOut", optOut))));
  }

  /** Stored: TwiML that confirms an opt-out, else hangs up. */
  CompletionStage<HttpResponse> gatherStored(
      WebhookReceipts.Receipt r, WebhookReceipts.Stored stored) {
    boolean optedOut = r.inbound().flatMap(WebhookReceipts.Inbound::keyword).isPresent();
    return CompletableFuture.completedFuture(optedOut ? OPTED_OUT : HANG_UP);
  }

  /**
   * Whether words spoken ask to stop: the whole answer is an opt-out keyword ("stop", "opt out"),
   * or one of its words is one (revocation by any reasonable means; never an opt-in or help).
   */
  static boolean saysOptOut(String speech) {
    if (speech.isBlank()) {
      return false;
    }
    if (OptOutKeywords.classify(speech).orElse(null) == OptOutKeywords.Keyword.OPT_OUT) {
      return true;
    }
    String lower = speech.toLowerCase(Locale.ROOT);
    if (lower.contains("opt out")
        || lower.contains("do not call")
        || lower.contains("don't call")) {
      return true;
    }
    for (String word : WORDS.split(speech)) {
      if (!word.isEmpty()
          && OptOutKeywords.classify(word).orElse(null) == OptOutKeywords.Keyword.OPT_OUT) {
        return true;
      }
    }
    return false;
  }

  /** A call's status as its message's: answered is delivered, not reached undelivered. */
  static Optional<MessageStatus> messageStatus(String callStatus) {
    return switch (callStatus) {
      case "queued", "initiated" -> Optional.of(MessageStatus.QUEUED);
      case "ringing", "in-progress" -> Optional.of(MessageStatus.SENT);
      case "completed" -> Optional.of(MessageStatus.DELIVERED);
      case "busy", "no-answer" -> Optional.of(MessageStatus.UNDELIVERED);
      case "failed", "canceled" -> Optional.of(MessageStatus.FAILED);
      default -> Optional.empty();
    };
  }

  /** The order of a status, for a callback without a SequenceNumber. */
  private static int order(String status) {
    return switch (status) {
      case "queued", "initiated" -> 0;
      case "ringing" -> 1;
      case "in-progress" -> 2;
      default -> 3;
    };
  }

  private static Integer integer(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Integer.valueOf(s.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Optional<WebhookReceipts.MessageRef> ref(HttpRequest request) {
    return request.getUri().query().get("ref").flatMap(WebhookReceipts.MessageRef::parse);
  }

  private static HttpResponse twiml(String verbs) {
    return HttpResponse.create()
        .withEntity(
            ContentTypes.TEXT_XML_UTF8,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + verbs + "</Response>");
  }
}
