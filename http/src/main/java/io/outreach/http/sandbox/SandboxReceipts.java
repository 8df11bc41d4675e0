package io.outreach.http.sandbox;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the receipts of accepted messages to their status-callback URLs through one bounded
 * queue: at most {@link SandboxSettings#receiptConcurrency()} posts in flight, messages served in
 * the order they were accepted. Twilio posts {@code sent} and then the last receipt ({@code
 * delivered} or {@code undelivered}), the last only once {@code sent} got a 2xx or was given up;
 * SignalHouse posts one event, {@code MESSAGE_DELIVERED} or {@code MESSAGE_FAILED}. Each is signed
 * with the secret of the account that sent the message. A failed attempt (no 2xx, no answer in
 * time) is retried as the provider would: Twilio once after a 15 s timeout, SignalHouse up to three
 * attempts of 3 s each with a short backoff. A retry waits off the slots and goes ahead of new
 * messages when due. A receipt given up is logged at WARN and counted ({@link #stats()}).
 *
 * <p>A queued message costs one small object (its log entry and account are shared, and callback
 * URLs are shared per distinct URL), so a backlog of hundreds of thousands of receipts while the
 * engine is down fits in a small heap; the queue refuses messages beyond {@link
 * #MAX_QUEUED_MESSAGES}, giving their receipts up.
 *
 * <p>Two faults change the order and number of posts: {@link SandboxFaults#reorderReceipts} posts a
 * Twilio message's last receipt before {@code sent}; {@link SandboxFaults#replayWebhooks} posts
 * each receipt the engine answered with a 2xx once more, the identical signed request, off the
 * slots (counted in {@code replayed}, and in {@code replayRefused} when the engine did not answer
 * the replay with a 2xx).
 */
final class SandboxReceipts {
  private static final Logger log = LoggerFactory.getLogger(SandboxReceipts.class);

  /** Messages waiting for their receipts beyond which new ones get none (and are counted). */
  static final int MAX_QUEUED_MESSAGES = 1_000_000;

  private static final int MAX_SHARED_URLS = 10_000;

  /**
   * How a provider retries a receipt.
   *
   * @param attempts attempts in all, the first included
   * @param timeout how long one attempt waits for an answer
   * @param backoff the wait before the second attempt; each further one waits this much longer
   */
  record Policy(int attempts, Duration timeout, Duration backoff) {
    /** Twilio retries a status callback once; it waits 15 s for an answer. */
    static final Policy TWILIO = new Policy(2, Duration.ofSeconds(15), Duration.ofSeconds(1));

    /** SignalHouse makes three attempts of 3 s each, a short backoff between them. */
    static final Policy SIGNALHOUSE = new Policy(3, Duration.ofSeconds(3), Duration.ofMillis(500));
  }

  /**
   * The counters of {@code GET /sandbox/stats}.
   *
   * @param concurrency the most posts in flight at once
   * @param queued receipts neither posted nor given up yet (waiting, retrying or in flight)
   * @param inFlight posts under way
   * @param posted receipts the engine answered with a 2xx
   * @param attempts posts made, retries included
   * @param retried attempts after a failed one
   * @param givenUp receipts dropped after their last failed attempt (or refused by a full queue)
   * @param replayed receipts posted a second time by {@link SandboxFaults#replayWebhooks}
   * @param replayRefused replays the engine answered without a 2xx, or not at all
   */
  record Stats(
      int concurrency,
      long queued,
      int inFlight,
      long posted,
      long attempts,
      long retried,
      long givenUp,
      long replayed,
      long replayRefused) {}

  /** One message's receipts still to post: which one, and its attempt. Kept small on purpose. */
  private static final class Pending {
    final SandboxLogEntry message;
    final String callbackUrl;
    final boolean undelivered;
    final SandboxAccounts.Account account;

    /** Whether the last receipt goes first ({@link SandboxFaults#reorderReceipts}). */
    final boolean reordered;

    /** 0 while posting the first of Twilio's two receipts, 1 while posting the other one. */
    byte step;

    /** The number of the attempt under way, from 1. */
    byte attempt = 1;

    /** When the receipt under way happened (epoch ms): the same on each of its attempts. */
    long eventAt;

    Pending(
        SandboxLogEntry message,
        String callbackUrl,
        boolean undelivered,
        boolean reordered,
        SandboxAccounts.Account account) {
      this.message = message;
      this.callbackUrl = callbackUrl;
      this.undelivered = undelivered;
      this.reordered = reordered;
      this.account = account;
      this.step = (byte) (message.provider().equals("twilio") ? 0 : 1);
    }

    int receipts() {
      return 2 - step;
    }

    String status() {
      boolean last = (step == 1) != reordered;
      return !last ? "sent" : undelivered ? "undelivered" : "delivered";
    }
  }

  private final ActorSystem<?> system;
  private final SandboxWebhooks webhooks;
  private final int concurrency;
  private final Map<String, Policy> policies;
  private final Map<String, SandboxWebhooks.Pool> pools;
  private final Executor executor;
  private final Supplier<SandboxFaults> faults;
  private final Map<String, String> sharedUrls = new ConcurrentHashMap<>();

  // Guarded by this.
  private final ArrayDeque<Pending> fresh = new ArrayDeque<>();
  private final ArrayDeque<Pending> retries = new ArrayDeque<>();
  private int inFlight;

  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong posted = new AtomicLong();
  private final AtomicLong attempts = new AtomicLong();
  private final AtomicLong retried = new AtomicLong();
  private final AtomicLong givenUp = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong replayRefused = new AtomicLong();

  SandboxReceipts(
      ActorSystem<?> system,
      SandboxWebhooks webhooks,
      int concurrency,
      Supplier<SandboxFaults> faults) {
    this(
        system,
        webhooks,
        concurrency,
        Map.of("twilio", Policy.TWILIO, "signalhouse", Policy.SIGNALHOUSE),
        faults);
  }

  /** With other retry policies per provider, for tests that cannot wait for real timeouts. */
  SandboxReceipts(
      ActorSystem<?> system,
      SandboxWebhooks webhooks,
      int concurrency,
      Map<String, Policy> policies,
      Supplier<SandboxFaults> faults) {
    this.system = system;
    this.faults = faults;
    this.webhooks = webhooks;
    this.concurrency = concurrency;
    this.policies = Map.copyOf(policies);
    this.pools =
        Map.of(
            "twilio", webhooks.pool(concurrency, policies.get("twilio").timeout()),
            "signalhouse", webhooks.pool(concurrency, policies.get("signalhouse").timeout()));
    this.executor = system.executionContext();
  }

  /**
   * Queues the receipts of {@code message}, sent by {@code account}: the last one says the message
   * was delivered, or not when {@code undelivered} is set; it goes first when {@code reordered}.
   */
  void deliver(
      SandboxLogEntry message,
      String callbackUrl,
      boolean undelivered,
      boolean reordered,
      SandboxAccounts.Account account) {
    Pending p = new Pending(message, shared(callbackUrl), undelivered, reordered, account);
    boolean queuedNow = false;
    synchronized (this) {
      if (fresh.size() < MAX_QUEUED_MESSAGES) {
        fresh.addLast(p);
        queued.addAndGet(p.receipts());
        queuedNow = true;
      }
    }
    if (!queuedNow) {
      givenUp.addAndGet(p.receipts());
      log.warn(
          "gave up the receipts of {} message {} to {}: {} messages are already waiting",
          message.provider(),
          message.messageId(),
          callbackUrl,
          MAX_QUEUED_MESSAGES);
      return;
    }
    pump();
  }

  Stats stats() {
    int busy;
    synchronized (this) {
      busy = inFlight;
    }
    return new Stats(
        concurrency,
        queued.get(),
        busy,
        posted.get(),
        attempts.get(),
        retried.get(),
        givenUp.get(),
        replayed.get(),
        replayRefused.get());
  }

  /** Starts posts while there are free slots and work: due retries first, then new messages. */
  private void pump() {
    while (true) {
      Pending next;
      synchronized (this) {
        if (inFlight >= concurrency) {
          return;
        }
        next = retries.isEmpty() ? fresh.pollFirst() : retries.pollFirst();
        if (next == null) {
          return;
        }
        inFlight++;
      }
      attempt(next);
    }
  }

  /** Posts the current receipt of {@code p} on a slot the caller holds. */
  private void attempt(Pending p) {
    attempts.incrementAndGet();
    if (p.attempt == 1) {
      p.eventAt = System.currentTimeMillis();
    }
    CompletionStage<Integer> answer;
    HttpRequest request = null;
    try {
      request = request(p);
      answer = webhooks.post(request, pools.get(p.message.provider()));
    } catch (RuntimeException e) {
      // A callback URL that is no URL: fails like an unreachable one.
      answer = CompletableFuture.failedFuture(e);
    }
    HttpRequest sent = request;
    answer.whenCompleteAsync((status, error) -> settle(p, sent, status, error), executor);
  }

  /** Posts {@code request} once more, off the slots ({@link SandboxFaults#replayWebhooks}). */
  private void replay(HttpRequest request, String provider) {
    replayed.incrementAndGet();
    webhooks
        .post(request, pools.get(provider))
        .whenComplete(
            (status, error) -> {
              if (error != null || status / 100 != 2) {
                replayRefused.incrementAndGet();
              }
            });
  }

  private HttpRequest request(Pending p) {
    return p.message.provider().equals("twilio")
        ? webhooks.twilioStatus(p.message, p.callbackUrl, p.status(), p.account)
        : webhooks.signalHouseStatus(
            p.message, p.callbackUrl, !p.undelivered, p.eventAt, p.account);
  }

  private void settle(Pending p, HttpRequest request, Integer status, Throwable error) {
    if (error == null && status / 100 == 2) {
      posted.incrementAndGet();
      if (faults.get().replayWebhooks()) {
        replay(request, p.message.provider());
      }
      next(p);
      return;
    }
    Policy policy = policies.get(p.message.provider());
    if (p.attempt < policy.attempts()) {
      retried.incrementAndGet();
      Duration wait = policy.backoff().multipliedBy(p.attempt);
      p.attempt++;
      release();
      system
          .scheduler()
          .scheduleOnce(
              wait,
              () -> {
                synchronized (this) {
                  retries.addLast(p);
                }
                pump();
              },
              system.executionContext());
      return;
    }
    givenUp.incrementAndGet();
    log.warn(
        "gave up the {} receipt of {} message {} to {} after {} attempts: {}",
        p.status(),
        p.message.provider(),
        p.message.messageId(),
        p.callbackUrl,
        p.attempt,
        error == null ? "the engine answered " + status : reason(error, policy));
    next(p);
  }

  /** The receipt of {@code p} is settled: on to its next one on the same slot, or free it. */
  private void next(Pending p) {
    queued.decrementAndGet();
    if (p.step == 0) {
      p.step = 1;
      p.attempt = 1;
      attempt(p);
    } else {
      release();
    }
  }

  private void release() {
    synchronized (this) {
      inFlight--;
    }
    pump();
  }

  private static String reason(Throwable error, Policy policy) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof TimeoutException) {
      return "no answer within " + policy.timeout().toMillis() + " ms";
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** One instance per distinct callback URL (the engine uses one per tenant and provider). */
  private String shared(String url) {
    String known = sharedUrls.get(url);
    if (known != null) {
      return known;
    }
    if (sharedUrls.size() >= MAX_SHARED_URLS) {
      return url;
    }
    known = sharedUrls.putIfAbsent(url, url);
    return known == null ? url : known;
  }
}
