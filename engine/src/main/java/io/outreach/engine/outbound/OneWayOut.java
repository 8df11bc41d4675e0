package io.outreach.engine.outbound;

import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.Contact;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.provider.CallRequest;
import io.outreach.engine.provider.DispatchPacer;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.provider.VoiceProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * The one way out: every outbound contact, a campaign's or a conversation's reply, takes this path
 * and no other. A batch gets permits from its tenant's throttle (kill switches, suspension, rates,
 * concurrency, breaker); is reserved in the person ledger, where the ComplianceGate decides each
 * contact on the person's current facts under the person's lock; and the allowed calls are
 * dispatched there, each at its slot (the sender's rate in the whole cluster) and paced at the
 * sender's rate on this node, while the permits' lease lasts. Every permit ends at its throttle,
 * with the call's outcome or unused.
 */
public final class OneWayOut {
  /**
   * The dispatcher of the send-time checks and dispatch (config: as many threads as connections).
   */
  public static final String DISPATCHER = "outreach.sends-dispatcher";

  /** How long before its first slot a grant's send-time checks start (they take a moment). */
  static final Duration PREPARE = Duration.ofMillis(100);

  /** One contact to make: how the gate sees it, what to send, and its idempotency key. */
  public record Outbound(Contact contact, String from, String body, String key) {}

  /**
   * What became of one outbound: the provider was called, it must wait for a permit, or the gate
   * stopped it.
   */
  public sealed interface Result {
    /** The call started; {@code answer} completes with the provider's answer. */
    record Called(CompletionStage<SendResult> answer) implements Result {}

    /** Not attempted: its permit's lease ran out first. */
    record NotNow() implements Result {}

    /** The gate decided not now, or not at all. */
    record Stopped(Decision decision) implements Result {}
  }

  private final Throttles throttles;
  private final ProviderAccounts providers;
  private final CallbackUrls callbacks;
  private final ContactLedger ledger;
  private final Clock clock;
  // The clock the throttle dates its permits by (wall time): a lease is real time, whatever the
  // campaign clock says.
  private final Clock leases;
  private final DispatchPacer pacer = new DispatchPacer();
  // The cluster's nodes, asked by quiet; none: this node alone (tests that build the path).
  private volatile ClusterQuiet everyNode;
  // Calls under way per person (tenant|phone), from their start until the provider answered.
  private final Map<String, Set<CompletableFuture<Void>>> underWay = new ConcurrentHashMap<>();
  // Send-time checks and dispatch have threads of their own: a queue behind other blocking work
  // (reads, loads) would hold permitted calls back and release them in a bunch.
  private final Executor sends;

  /**
   * @param clock the campaign clock: the ledger's and the gate's time
   * @param leases the clock {@code throttles} date their permits by, for their leases
   * @param sends the threads of the send-time checks and dispatch (the {@link #DISPATCHER}), as
   *     many as the ledger has connections
   */
  public OneWayOut(
      Throttles throttles,
      ProviderAccounts providers,
      CallbackUrls callbacks,
      ContactLedger ledger,
      Clock clock,
      Clock leases,
      Executor sends) {
    this.throttles = throttles;
    this.providers = providers;
    this.callbacks = callbacks;
    this.ledger = ledger;
    this.clock = clock;
    this.leases = leases;
    this.sends = sends;
  }

  /**
   * The one way out of this node: its throttles through sharding (their permits dated on the system
   * clock), its own send threads.
   */
  public static OneWayOut of(
      ActorSystem<?> system,
      ProviderAccounts providers,
      CallbackUrls callbacks,
      ContactLedger ledger,
      Clock clock,
      Duration askTimeout) {
    OneWayOut out =
        new OneWayOut(
            Throttles.of(system, askTimeout),
            providers,
            callbacks,
            ledger,
            clock,
            Clock.systemUTC(),
            system.dispatchers().lookup(DispatcherSelector.fromConfig(DISPATCHER)));
    out.everyNode = ClusterQuiet.start(system, out);
    return out;
  }

  /** Asks the tenant for up to {@code wanted} calls from {@code sender}. */
  public CompletionStage<Permits> permits(
      String tenantId,
      String provider,
      String sender,
      String campaignId,
      String agent,
      Channel channel,
      int wanted) {
    return throttles.acquire(tenantId, provider, sender, campaignId, agent, channel, wanted);
  }

  /**
   * Reserves and dispatches a batch (one sender) on {@code permits}; the results are in batch order
   * and complete once every dispatched call has started.
   */
  public CompletionStage<List<Result>> attempt(
      String tenantId, String provider, List<Outbound> batch, Permits permits, ContactRules rules) {
    String sender = batch.isEmpty() ? null : lane(batch.get(0));
    // A grant whose first slot is ahead starts its checks shortly before it, holding no thread
    // and no connection while it waits.
    Duration ahead =
        batch.isEmpty() || permits.issuedAt() == null
            ? Duration.ZERO
            : Duration.between(leases.instant(), permits.slot(0)).minus(PREPARE);
    Executor start =
        ahead.isNegative() || ahead.isZero()
            ? sends
            : CompletableFuture.delayedExecutor(
                Math.min(ahead.toMillis(), Permits.LEASE.toMillis()),
                java.util.concurrent.TimeUnit.MILLISECONDS,
                sends);
    return CompletableFuture.supplyAsync(
            () -> {
              Map<String, CompletionStage<SendResult>> calls = new HashMap<>();
              List<Result> results = new ArrayList<>(batch.size());
              if (!batch.isEmpty() && permits.usableAt(leases.instant())) {
                // The grant's slots, in the order its calls are dispatched.
                int[] slot = {0};
                Map<String, Outbound> byKey = new HashMap<>();
                List<ContactLedger.Candidate> candidates = new ArrayList<>();
                for (Outbound o : batch) {
                  byKey.put(o.key(), o);
                  candidates.add(new ContactLedger.Candidate(o.contact(), o.key(), o.from()));
                }
                List<Decision> decisions =
                    ledger.reserve(
                        tenantId,
                        candidates,
                        rules,
                        List.of(),
                        clock.instant(),
                        c -> {
                          DispatchPacer.Turn turn =
                              paced(lane(byKey.get(c.key())), permits, slot[0]++);
                          if (turn != null) {
                            calls.put(
                                c.key(),
                                call(
                                    tenantId, provider, byKey.get(c.key()), permits.trial(), turn));
                          }
                        });
                for (int i = 0; i < batch.size(); i++) {
                  CompletionStage<SendResult> call = calls.get(batch.get(i).key());
                  Decision d = decisions.get(i);
                  results.add(
                      call != null
                          ? new Result.Called(call)
                          : d instanceof Decision.Allow
                              ? new Result.NotNow()
                              : new Result.Stopped(d));
                }
              } else {
                batch.forEach(o -> results.add(new Result.NotNow()));
              }
              release(tenantId, provider, sender, permits, permits.granted() - calls.size());
              return results;
            },
            start)
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                release(tenantId, provider, sender, permits, permits.granted());
              }
            });
  }

  /**
   * The rate an outbound counts against: its sender number's for a message, the account's {@link
   * ProviderThrottle#CALLS} for a call (a provider counts calls per second per account).
   */
  static String lane(Outbound o) {
    return o.contact().channel() == Channel.VOICE ? ProviderThrottle.CALLS : o.from();
  }

  /**
   * Waits for the grant's {@code i}-th slot (the sender's in the whole cluster) and then for the
   * sender's turn on this node, while the permits' lease lasts; null when none came in time (or the
   * lease ran out while waiting).
   */
  private DispatchPacer.Turn paced(String sender, Permits permits, int i) {
    Instant slot = permits.slot(i);
    if (slot.isAfter(permits.issuedAt().plus(Permits.LEASE))) {
      return null;
    }
    try {
      // Never longer than the slot's offset in the grant, whatever this node's clock says.
      long wait =
          Math.min(
              Duration.between(permits.issuedAt(), slot).toNanos(),
              Duration.between(leases.instant(), slot).toNanos());
      long until = System.nanoTime() + wait;
      for (long left = wait; left > 0; left = until - System.nanoTime()) {
        java.util.concurrent.locks.LockSupport.parkNanos(left);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      }
      Duration left = Duration.between(leases.instant(), permits.issuedAt().plus(Permits.LEASE));
      if (left.isNegative()) {
        return null;
      }
      DispatchPacer.Turn turn = pacer.await(sender, permits.mps(), left);
      if (turn != null && !permits.usableAt(leases.instant())) {
        turn.ended();
        return null;
      }
      return turn;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Gives {@code n} unused permits back to their throttle. */
  private void release(String tenantId, String provider, String sender, Permits permits, int n) {
    for (int i = 0; i < n; i++) {
      callEnded(
          tenantId,
          provider,
          new ProviderThrottle.Ended(
              sender, ProviderThrottle.CallOutcome.UNUSED, null, permits.trial()));
    }
  }

  private void callEnded(String tenantId, String provider, ProviderThrottle.Ended ended) {
    throttles.ended(tenantId, provider, ended);
  }

  /**
   * One provider call. The status callback carries the message's key, so its receipts find the
   * message at once.
   */
  private CompletionStage<SendResult> call(
      String tenantId, String providerName, Outbound o, boolean trial, DispatchPacer.Turn turn) {
    boolean voice = o.contact().channel() == Channel.VOICE;
    SmsProvider sms = voice ? null : providers.sms(tenantId, providerName).orElse(null);
    VoiceProvider calls = voice ? providers.voice(tenantId, providerName).orElse(null) : null;
    String lane = lane(o);
    if (sms == null && calls == null) {
      turn.ended();
      callEnded(
          tenantId,
          providerName,
          new ProviderThrottle.Ended(lane, ProviderThrottle.CallOutcome.UNUSED, null, trial));
      return CompletableFuture.completedFuture(
          new SendResult.Rejected(
              0,
              "no " + providerName + (voice ? " voice" : "") + " account is configured",
              false,
              Optional.empty()));
    }
    CompletionStage<SendResult> sent;
    CompletableFuture<Void> answered = new CompletableFuture<>();
    underWay(tenantId, o.contact().phone(), answered);
    // When the answer came: the sender's slots count the call until a second after it.
    java.util.concurrent.atomic.AtomicReference<Instant> answeredAt =
        new java.util.concurrent.atomic.AtomicReference<>();
    Runnable onAnswer =
        () -> {
          answeredAt.compareAndSet(null, Instant.now());
          answered.complete(null);
          turn.ended();
        };
    try {
      sent =
          voice
              ? calls.call(
                  new CallRequest(
                      tenantId,
                      o.from(),
                      o.contact().phone(),
                      o.body(),
                      o.key(),
                      callbacks.callStatus(tenantId, providerName, o.key()),
                      callbacks.callGather(tenantId, providerName, o.key())),
                  onAnswer)
              : sms.send(
                  new SmsRequest(
                      tenantId,
                      o.from(),
                      o.contact().phone(),
                      o.body(),
                      o.key(),
                      callbacks.messageStatus(tenantId, providerName, o.key())),
                  onAnswer);
    } catch (RuntimeException e) {
      sent =
          CompletableFuture.failedFuture(
              e); // a failed call like any other: its turn and permit end
    }
    sent.whenComplete((ok, err) -> answered.complete(null));
    return sent.whenComplete(
        (result, error) -> {
          turn.ended(); // if the provider's answer did not already end it (a timeout)
          if (voice && result instanceof SendResult.Accepted) {
            // Live before its permit ends, so the throttle never sees the call as neither.
            throttles.voiceCall(tenantId, providerName, new ProviderThrottle.CallLive(o.key()));
          }
          answeredAt.compareAndSet(null, Instant.now());
          callEnded(tenantId, providerName, ended(lane, result, error, trial, answeredAt.get()));
        });
  }

  /**
   * The provider reported the call with this key over (its final status): it no longer counts
   * against the account's live calls.
   */
  public void callOver(String tenantId, String provider, String key) {
    throttles.voiceCall(tenantId, provider, new ProviderThrottle.CallOver(key));
  }

  /**
   * Completes when every call to the person that has started has its provider's answer (the
   * provider has it), or after {@code atMost}. A call starts while the ledger holds the person's
   * lock, so once a transaction that took that lock (an opt-out) has committed, every call the gate
   * let past before it has started, on whichever node: every node of the cluster is asked ({@link
   * ClusterQuiet}; docs/decisions/093-stop-to-silence.md and 135).
   */
  public CompletionStage<Void> quiet(String tenantId, String phone, Duration atMost) {
    ClusterQuiet nodes = everyNode;
    return nodes == null
        ? quietHere(tenantId, phone, atMost)
        : nodes.quiet(tenantId, phone, atMost);
  }

  /** {@link #quiet}, for the calls this node started. */
  public CompletionStage<Void> quietHere(String tenantId, String phone, Duration atMost) {
    Set<CompletableFuture<Void>> calls = underWay.get(tenantId + "|" + phone);
    if (calls == null || calls.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
        .completeOnTimeout(null, atMost.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Counts a call to the person as under way until {@code answered} completes. */
  private void underWay(String tenantId, String phone, CompletableFuture<Void> answered) {
    String key = tenantId + "|" + phone;
    underWay.compute(
        key,
        (k, calls) -> {
          Set<CompletableFuture<Void>> set = calls == null ? ConcurrentHashMap.newKeySet() : calls;
          set.add(answered);
          return set;
        });
    answered.whenComplete(
        (ok, err) ->
            underWay.computeIfPresent(
                key,
                (k, calls) -> {
                  calls.remove(answered);
                  return calls.isEmpty() ? null : calls;
                }));
  }

  /** What a call's answer tells its throttle. */
  static ProviderThrottle.Ended ended(
      String sender, SendResult result, Throwable error, boolean trial, Instant answeredAt) {
    if (error != null) {
      return new ProviderThrottle.Ended(
          sender, ProviderThrottle.CallOutcome.FAILED, null, trial, answeredAt);
    }
    if (result instanceof SendResult.Rejected r) {
      ProviderThrottle.CallOutcome outcome =
          r.status() == 429
              ? ProviderThrottle.CallOutcome.THROTTLED
              : r.retryable()
                  ? ProviderThrottle.CallOutcome.FAILED
                  : ProviderThrottle.CallOutcome.REFUSED;
      return new ProviderThrottle.Ended(
          sender, outcome, r.retryAfter().orElse(null), trial, answeredAt);
    }
    return new ProviderThrottle.Ended(
        sender, ProviderThrottle.CallOutcome.SUCCEEDED, null, trial, answeredAt);
  }
}
