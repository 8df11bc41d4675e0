package io.outreach.http.sandbox;

import io.outreach.engine.message.OptOutKeywords;
import io.outreach.engine.message.Segments;
import io.outreach.engine.tenant.TenantId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Scripted replies ({@code POST /sandbox/replies}): a person answers a text, and the twin posts the
 * provider's signed inbound-message webhook to the engine, once, as the provider would, and reports
 * what the engine answered. The reply goes to the account that sends from the number written to
 * (signed with its secret; the test account's when no known account sends from it). Twilio's
 * webhook carries Advanced Opt-Out's {@code OptOutType} when the reply is one of its keywords;
 * SignalHouse's is a {@code MESSAGE_RECEIVED} event. Each reply is logged with direction {@code
 * inbound}. Replies have their own small connection pools, so a backlog of receipts never delays
 * them.
 */
final class SandboxReplies {
  private static final int MAX_CONNECTIONS = 32;

  /**
   * The body of {@code POST /sandbox/replies}.
   *
   * @param tenant whose webhook receives the reply
   * @param from the person's phone
   * @param to the tenant's sender number the person answers
   * @param body the text
   * @param provider {@code twilio} (the default) or {@code signalhouse}
   */
  record Body(String tenant, String from, String to, String body, String provider) {
    String providerOrDefault() {
      return provider == null ? "twilio" : provider;
    }

    /** What is wrong with this body, naming the field, or null when it is usable. */
    String problem() {
      if (tenant == null || tenant.isBlank()) {
        return "tenant is required";
      }
      if (!TenantId.isValid(tenant)) {
        return "tenant: " + TenantId.rule();
      }
      if (from == null || from.isBlank()) {
        return "from is required";
      }
      if (to == null || to.isBlank()) {
        return "to is required";
      }
      if (body == null) {
        return "body is required";
      }
      if (!providerOrDefault().equals("twilio") && !providerOrDefault().equals("signalhouse")) {
        return "provider must be twilio or signalhouse";
      }
      return null;
    }
  }

  /**
   * What the engine made of a reply.
   *
   * @param status the engine's HTTP status, or null when it could not be reached
   * @param error why the reply did not land, or null when the engine answered 2xx
   * @param replayStatus what the engine answered the identical request posted again ({@link
   *     SandboxFaults#replayWebhooks}), 0 when it could not be reached, null when not replayed
   */
  record Outcome(
      String provider, String messageId, Integer status, String error, Integer replayStatus) {
    Outcome(String provider, String messageId, Integer status, String error) {
      this(provider, messageId, status, error, null);
    }

    boolean delivered() {
      return error == null;
    }

    Outcome replayed(int status) {
      return new Outcome(provider, messageId, this.status, error, status);
    }

    Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("provider", provider);
      json.put("messageId", messageId);
      json.put("status", status);
      if (error != null) {
        json.put("error", error);
      }
      if (replayStatus != null) {
        json.put("replayStatus", replayStatus);
      }
      return json;
    }
  }

  private final SandboxWebhooks webhooks;
  private final SandboxAccounts accounts;
  private final SandboxLog log;
  private final EngineUrl engineUrl;
  private final Map<String, SandboxWebhooks.Pool> pools;
  private final AtomicLong posted = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final Supplier<SandboxFaults> faults;

  SandboxReplies(
      SandboxWebhooks webhooks,
      SandboxAccounts accounts,
      SandboxLog log,
      EngineUrl engineUrl,
      Supplier<SandboxFaults> faults) {
    this.faults = faults;
    this.webhooks = webhooks;
    this.accounts = accounts;
    this.log = log;
    this.engineUrl = engineUrl;
    this.pools =
        Map.of(
            "twilio",
            webhooks.pool(MAX_CONNECTIONS, SandboxReceipts.Policy.TWILIO.timeout()),
            "signalhouse",
            webhooks.pool(MAX_CONNECTIONS, SandboxReceipts.Policy.SIGNALHOUSE.timeout()));
  }

  /** Logs the reply and posts it to the engine; {@code reply} must have no problem. */
  CompletionStage<Outcome> post(Body reply) {
    String provider = reply.providerOrDefault();
    String messageId =
        provider.equals("twilio")
            ? "SM" + UUID.randomUUID().toString().replace("-", "")
            : SignalHouseTwin.newMessageId();
    log.recordInbound(provider, reply.tenant(), reply.to(), reply.from(), reply.body(), messageId);
    SandboxAccounts.Account account = accounts.owner(provider, reply.to());
    String base = engineUrl.base();
    if (base == null) {
      failed.incrementAndGet();
      return CompletableFuture.completedFuture(
          new Outcome(
              provider,
              messageId,
              null,
              "no engine URL: start the sandbox with --engine-url or OUTREACH_PUBLIC_URL"));
    }
    HttpRequest request;
    try {
      request =
          provider.equals("twilio")
              ? twilio(base, reply, messageId, account)
              : signalHouse(base, reply, messageId, account);
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      return CompletableFuture.completedFuture(
          new Outcome(provider, messageId, null, "the engine URL '" + base + "' is not usable"));
    }
    HttpRequest signed = request;
    return webhooks
        .post(signed, pools.get(provider))
        .handle(
            (status, error) -> {
              Outcome outcome;
              if (error != null) {
                outcome =
                    new Outcome(
                        provider,
                        messageId,
                        null,
                        "the engine could not be reached: " + reason(error));
              } else if (status / 100 != 2) {
                outcome = new Outcome(provider, messageId, status, "the engine answered " + status);
              } else {
                outcome = new Outcome(provider, messageId, status, null);
              }
              (outcome.delivered() ? posted : failed).incrementAndGet();
              return outcome;
            })
        .thenCompose(
            outcome -> {
              if (!outcome.delivered() || !faults.get().replayWebhooks()) {
                return CompletableFuture.completedFuture(outcome);
              }
              replayed.incrementAndGet();
              return webhooks
                  .post(signed, pools.get(provider))
                  .handle((status, error) -> outcome.replayed(error == null ? status : 0));
            });
  }

  /** Replies posted a second time ({@link SandboxFaults#replayWebhooks}). */
  long replayed() {
    return replayed.get();
  }

  /** Replies the engine answered with a 2xx. */
  long posted() {
    return posted.get();
  }

  /** Replies the engine refused or that could not reach it. */
  long failed() {
    return failed.get();
  }

  private HttpRequest twilio(
      String base, Body reply, String messageSid, SandboxAccounts.Account account) {
    String optOutType =
        OptOutKeywords.classify(reply.body())
            .map(
                k ->
                    switch (k) {
                      case OPT_OUT -> "STOP";
                      case OPT_IN -> "START";
                      case HELP -> "HELP";
                    })
            .orElse(null);
    return webhooks.twilioInbound(
        base + "/webhooks/twilio/" + reply.tenant() + "/sms",
        messageSid,
        reply.from(),
        reply.to(),
        reply.body(),
        Segments.count(reply.body()).segments(),
        optOutType,
        account);
  }

  private HttpRequest signalHouse(
      String base, Body reply, String messageId, SandboxAccounts.Account account) {
    return webhooks.signalHouseInbound(
        base + "/webhooks/signalhouse/" + reply.tenant(),
        messageId,
        reply.from(),
        reply.to(),
        reply.body(),
        account);
  }

  private static String reason(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof TimeoutException) {
      return "no answer in time";
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
