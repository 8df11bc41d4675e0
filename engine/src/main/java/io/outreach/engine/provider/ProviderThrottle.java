package io.outreach.engine.provider;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.CircuitBreaker;

/**
 * The pacing of one provider account of a tenant, a child of its Tenant entity (which checks the
 * kill switches before it asks): nothing calls the provider without a permit from here.
 *
 * <ul>
 *   <li>Each sender number gets at most its {@code mps} calls in any one second: a Bucket4j token
 *       bucket refilled at {@code mps} per second bounds bursts to a fifth of a second's worth
 *       (requesters are told to come back when a tenth of a second's worth has accrued, so tokens
 *       keep accruing while they are on their way and the long-run rate is the configured one), and
 *       a sliding window of the grants of the last second makes the per-second limit of grants
 *       exact, which a bucket alone cannot (it allows its capacity plus a second's refill in one
 *       window). The {@link DispatchPacer} then makes the limit hold where the provider counts: a
 *       call counts from when it leaves until a second after its answer.
 *   <li>At most {@code maxConcurrent} calls of the account are open at once.
 *   <li>Voice calls share one rate per account, the lane {@link #CALLS} (Twilio's calls per second
 *       are counted per account, not per number), and at most {@code maxConcurrentCalls} of them
 *       are live at once: a call counts from its permit until its provider reports it over ({@link
 *       CallOver}), or {@code maxCallLength} after it was placed ({@link CallLive}), whichever
 *       comes first.
 *   <li>A 429 pauses the whole account for its {@code Retry-After}.
 *   <li>A Pekko {@link CircuitBreaker} opens after consecutive failures (5xx, timeouts), with
 *       exponential backoff; half-open, exactly one trial call is let through.
 * </ul>
 *
 * Grants are answered at once (never queued), so a request that gets none asks again later.
 */
public final class ProviderThrottle {
  /** The rate window: at most {@code mps} grants in any second. */
  static final Duration WINDOW = Duration.ofSeconds(1);

  /**
   * The rate lane of an account's voice calls: all its numbers share one calls-per-second limit.
   * Never an E.164 number, so it cannot be mistaken for a sender.
   */
  public static final String CALLS = "calls";

  private ProviderThrottle() {}

  /** Commands of a throttle. */
  public sealed interface Command extends CborSerializable {}

  /**
   * Up to {@code wanted} calls from {@code sender} (at most {@code mps} per second), to be dated
   * {@code issuedAt} (when the kill switches were checked). A {@code priority} request (the
   * engine's own answer to a person: an opt-out's confirmation, the help text) that finds no room
   * claims the next grant of the sender: campaigns leave it free until the request comes back for
   * it (within {@link #CLAIM}), so a campaign that fills the sender's rate cannot starve it. {@code
   * slotted}: the grants are provider calls, each reported {@link Ended} once, that start at the
   * slots the grant gives ({@link SenderSlots}); lookups, which report a permit once whatever it
   * granted, are not.
   */
  public record Acquire(
      String sender,
      int mps,
      int wanted,
      Instant issuedAt,
      boolean priority,
      boolean slotted,
      ActorRef<Permits> replyTo)
      implements Command {

    /** A request without slots. */
    public Acquire(
        String sender,
        int mps,
        int wanted,
        Instant issuedAt,
        boolean priority,
        ActorRef<Permits> replyTo) {
      this(sender, mps, wanted, issuedAt, priority, false, replyTo);
    }
  }

  /** How long a priority request's claim on a grant waits for it to come back. */
  static final Duration CLAIM = Duration.ofSeconds(3);

  /** How a permitted call ended. */
  public enum CallOutcome {
    /** The provider accepted the message. */
    SUCCEEDED,
    /** The provider refused the message itself (4xx): the provider is healthy. */
    REFUSED,
    /** 429: too many requests. */
    THROTTLED,
    /** 5xx, a timeout or a broken connection: counts towards opening the breaker. */
    FAILED,
    /** The permit was not used (the gate stopped the send, or its lease ran out). */
    UNUSED
  }

  /** A permitted call ended (or was not made); {@code retryAfter} for THROTTLED, may be null. */
  public record Ended(
      String sender, CallOutcome outcome, Duration retryAfter, boolean trial, Instant answeredAt)
      implements Command {

    /** Ended, answered when the throttle hears of it. */
    public Ended(String sender, CallOutcome outcome, Duration retryAfter, boolean trial) {
      this(sender, outcome, retryAfter, trial, null);
    }

    /** When the caller had the provider's answer ({@code answeredAt}, else {@code now}). */
    long answeredNanos(long now) {
      if (answeredAt == null) {
        return now;
      }
      // On the caller's clock; never later than now, and a second at most earlier.
      long ago = Duration.between(answeredAt, Instant.now()).toNanos();
      return now - Math.max(0, Math.min(ago, WINDOW.toNanos()));
    }
  }

  /**
   * A voice call was placed (the provider accepted it): it stays live, holding one of the account's
   * {@code maxConcurrentCalls}, until {@link CallOver} or {@code maxCallLength}.
   */
  public record CallLive(String key) implements Command {}

  /** The provider reported the call over (its final status); a repeat or a late one is harmless. */
  public record CallOver(String key) implements Command {}

  /**
   * Per-account limits: concurrent requests and the breaker; for voice, calls per second, live
   * calls at once and how long a call can stay live without its final status.
   */
  public record Limits(
      int maxConcurrent,
      int breakerMaxFailures,
      Duration breakerReset,
      Duration breakerMaxReset,
      int callsPerSecond,
      int maxConcurrentCalls,
      Duration maxCallLength)
      implements CborSerializable {
    public static final Limits DEFAULTS =
        new Limits(100, 5, Duration.ofSeconds(5), Duration.ofMinutes(1));

    /** Limits with the voice defaults: 1 call per second, 10 live calls, 15 minutes at most. */
    public Limits(
        int maxConcurrent,
        int breakerMaxFailures,
        Duration breakerReset,
        Duration breakerMaxReset) {
      this(
          maxConcurrent,
          breakerMaxFailures,
          breakerReset,
          breakerMaxReset,
          1,
          10,
          Duration.ofMinutes(15));
    }

    /** The limits of {@code outreach.throttle} and {@code outreach.voice} (see reference.conf). */
    public static Limits from(com.typesafe.config.Config root) {
      com.typesafe.config.Config t = root.getConfig("outreach.throttle");
      com.typesafe.config.Config v = root.getConfig("outreach.voice");
      return new Limits(
          t.getInt("max-concurrent"),
          t.getInt("breaker.max-failures"),
          t.getDuration("breaker.reset-timeout"),
          t.getDuration("breaker.max-reset-timeout"),
          v.getInt("calls-per-second"),
          v.getInt("max-concurrent-calls"),
          v.getDuration("max-call-length"));
    }
  }

  public static Behavior<Command> create(String provider, Limits limits) {
    return create(provider, limits, System::nanoTime);
  }

  static Behavior<Command> create(String provider, Limits limits, LongSupplier nanos) {
    return Behaviors.setup(
        ctx -> {
          CircuitBreaker breaker =
              CircuitBreaker.create(
                      Adapter.toClassic(ctx.getSystem()).scheduler(), limits.breakerMaxFailures(),
                      Duration.ofSeconds(10), limits.breakerReset())
                  .withExponentialBackoff(limits.breakerMaxReset())
                  .addOnOpenListener(() -> ctx.getLog().warn("{} circuit breaker open", provider))
                  .addOnCloseListener(
                      () -> ctx.getLog().info("{} circuit breaker closed", provider));
          return new Account(provider, limits, breaker, nanos).behavior();
        });
  }

  /** The state of one account; touched only by its actor. */
  private static final class Account {
    private final String provider;
    private final Limits limits;
    private final CircuitBreaker breaker;
    private final LongSupplier nanos;
    private final Map<String, SenderRate> rates = new HashMap<>();
    private final Map<String, SenderSlots> slots = new HashMap<>();
    // Senders whose next slot a priority request has claimed, until when.
    private final Map<String, Long> claims = new HashMap<>();
    private int inFlight;
    private final LiveCalls calls;
    private long pausedUntil;
    private boolean trialOut;

    Account(String provider, Limits limits, CircuitBreaker breaker, LongSupplier nanos) {
      this.provider = provider;
      this.limits = limits;
      this.breaker = breaker;
      this.nanos = nanos;
      this.pausedUntil = nanos.getAsLong();
      this.calls = new LiveCalls(limits.maxConcurrentCalls(), limits.maxCallLength());
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(
              Acquire.class,
              a -> {
                a.replyTo().tell(acquire(a));
                return Behaviors.same();
              })
          .onMessage(
              Ended.class,
              e -> {
                ended(e);
                return Behaviors.same();
              })
          .onMessage(
              CallLive.class,
              c -> {
                calls.live(c.key(), nanos.getAsLong());
                return Behaviors.same();
              })
          .onMessage(
              CallOver.class,
              c -> {
                calls.over(c.key(), nanos.getAsLong());
                return Behaviors.same();
              })
          .build();
    }

    private Permits acquire(Acquire a) {
      long now = nanos.getAsLong();
      forgetLostCalls(now);
      if (breaker.isOpen()) {
        return Permits.held("circuit-open:" + provider, Duration.ofMillis(250));
      }
      if (now < pausedUntil) {
        return Permits.later(Duration.ofNanos(pausedUntil - now));
      }
      int room = limits.maxConcurrent() - inFlight;
      if (CALLS.equals(a.sender())) {
        room = Math.min(room, calls.room(now));
      }
      if (room <= 0) {
        return Permits.later(Duration.ofMillis(20));
      }
      if (a.slotted() && a.mps() > 0) {
        return slotted(a, room, now);
      }
      SenderRate rate =
          rates.compute(
              a.sender(),
              (s, r) -> r == null || r.mps != a.mps() ? new SenderRate(a.mps(), nanos) : r);
      if (breaker.isHalfOpen()) {
        if (trialOut || rate.take(1, now) == 0) {
          return Permits.held("circuit-half-open:" + provider, Duration.ofMillis(100));
        }
        trialOut = true;
        inFlight++;
        return Permits.trial(a.issuedAt(), a.mps());
      }
      int n = rate.take(Math.min(a.wanted(), room), now, a.priority());
      if (n == 0) {
        return Permits.later(a.priority() ? rate.nextIn(1, now) : rate.nextIn(a.wanted(), now));
      }
      inFlight += n;
      if (CALLS.equals(a.sender())) {
        calls.placing(n);
      }
      return Permits.granted(n, a.issuedAt(), a.mps(), Duration.ZERO);
    }

    /**
     * Calls that start at slots: the slots are the sender's rate ({@link SenderSlots}), exact at
     * the provider, so the bucket and window that bound grants are not consulted. A priority
     * request that finds no slot within reach claims the next: campaigns' requests get none until
     * it came back for it (within {@link #CLAIM}).
     */
    private Permits slotted(Acquire a, int room, long now) {
      Long claim = claims.get(a.sender());
      if (claim != null && now - claim >= 0) {
        claims.remove(a.sender());
        claim = null;
      }
      if (claim != null && !a.priority()) {
        return Permits.later(Duration.ofMillis(5));
      }
      boolean trial = breaker.isHalfOpen();
      if (trial && trialOut) {
        return Permits.held("circuit-half-open:" + provider, Duration.ofMillis(100));
      }
      SenderSlots.Assigned given = slots(a, trial ? 1 : Math.min(a.wanted(), room), now);
      if (given.count() == 0) {
        if (a.priority()) {
          claims.put(a.sender(), now + CLAIM.toNanos());
        }
        return Permits.later(given.retryIn());
      }
      if (a.priority()) {
        claims.remove(a.sender());
      }
      inFlight += given.count();
      if (CALLS.equals(a.sender())) {
        calls.placing(given.count());
      }
      if (trial) {
        trialOut = true;
        return Permits.trial(a.issuedAt(), a.mps(), startIn(a, given, now));
      }
      return Permits.granted(given.count(), a.issuedAt(), a.mps(), startIn(a, given, now));
    }

    /** Slots for up to {@code n} calls of a slotted request. */
    private SenderSlots.Assigned slots(Acquire a, int n, long now) {
      SenderSlots s =
          slots.compute(
              a.sender(),
              (k, old) -> old != null && old.mps == a.mps() ? old : new SenderSlots(a.mps(), now));
      return s.assign(n, now);
    }

    /**
     * The first slot as an offset from the grant's date ({@code issuedAt}, when the tenant checked
     * the kill switches, a moment before this throttle saw the request), which is where its holder
     * counts from.
     */
    private static Duration startIn(Acquire a, SenderSlots.Assigned slots, long now) {
      Duration sinceIssued = Duration.between(a.issuedAt(), Instant.now());
      if (sinceIssued.isNegative() || sinceIssued.compareTo(WINDOW) > 0) {
        sinceIssued = Duration.ZERO; // another clock (tests): the grant's own time
      }
      return Duration.ofNanos(Math.max(0, slots.first() - now)).plus(sinceIssued);
    }

    /**
     * Calls whose end was never reported (the node that made them died) stop holding the account's
     * concurrency once their sender's slots take them as answered.
     */
    private void forgetLostCalls(long now) {
      slots.forEach(
          (sender, s) -> {
            int lost = s.forgetAnswered(now);
            inFlight = Math.max(0, inFlight - lost);
            if (CALLS.equals(sender)) {
              for (int i = 0; i < lost; i++) {
                calls.placed();
              }
            }
          });
    }

    private void ended(Ended e) {
      SenderSlots sent = slots.get(e.sender());
      if (sent != null
          && !(e.outcome() == CallOutcome.UNUSED
              ? sent.unused()
              : sent.answered(nanos.getAsLong()))) {
        return; // already taken as answered (see forgetLostCalls)
      }
      inFlight = Math.max(0, inFlight - 1);
      if (CALLS.equals(e.sender())) {
        calls.placed();
      }
      if (e.trial()) {
        trialOut = false;
      }
      switch (e.outcome()) {
        case SUCCEEDED, REFUSED -> breaker.succeed();
        case FAILED -> breaker.fail();
        case THROTTLED -> {
          Duration wait =
              e.retryAfter() == null || e.retryAfter().isNegative()
                  ? Duration.ofSeconds(1)
                  : e.retryAfter();
          pausedUntil = Math.max(pausedUntil, nanos.getAsLong() + wait.toNanos());
        }
        case UNUSED -> {
          // Never reached the provider: its place in the sender's rate is free again.
          SenderRate rate = rates.get(e.sender());
          if (rate != null) {
            rate.giveBack();
          }
        }
      }
    }
  }

  /** One sender's rate: a token bucket for smoothness and a one-second window for exactness. */
  static final class SenderRate {
    final int mps;
    private final Bucket bucket;
    private final ArrayDeque<Long> window = new ArrayDeque<>();
    private final long windowNanos = WINDOW.toNanos();
    private final int step;

    SenderRate(int mps, LongSupplier nanos) {
      this.mps = mps;
      this.step = Math.max(1, mps / 10);
      long burst = Math.max(1, mps / 5);
      this.bucket =
          Bucket.builder()
              .addLimit(l -> l.capacity(burst).refillGreedy(mps, WINDOW).initialTokens(burst))
              .withCustomTimePrecision(
                  new TimeMeter() {
                    @Override
                    public long currentTimeNanos() {
                      return nanos.getAsLong();
                    }

                    @Override
                    public boolean isWallClockBased() {
                      return false;
                    }
                  })
              .build();
    }

    // Grants claimed by priority requests that found no room, kept free for them until then.
    private int claims;
    private long claimsExpireAt;

    /** Takes up to {@code wanted} grants at {@code now}; answers how many. */
    int take(int wanted, long now) {
      return take(wanted, now, false);
    }

    /**
     * Takes up to {@code wanted} grants at {@code now}; answers how many. Others leave the claimed
     * grants free; a priority request takes one of them, or claims one when there is none.
     */
    int take(int wanted, long now, boolean priority) {
      while (!window.isEmpty() && window.peekFirst() <= now - windowNanos) {
        window.pollFirst();
      }
      if (claims > 0 && now - claimsExpireAt >= 0) {
        claims = 0;
      }
      int reserved = priority ? 0 : claims;
      int room = mps - window.size() - reserved;
      long tokens = bucket.getAvailableTokens() - reserved;
      int n =
          room <= 0 || wanted <= 0 || tokens <= 0
              ? 0
              : (int) bucket.tryConsumeAsMuchAsPossible(Math.min(Math.min(wanted, room), tokens));
      for (int i = 0; i < n; i++) {
        window.addLast(now);
      }
      if (priority) {
        if (n > 0) {
          claims = Math.max(0, claims - 1);
        } else if (wanted > 0) {
          claims = Math.min(mps, claims + 1);
          claimsExpireAt = now + CLAIM.toNanos();
        }
      }
      return n;
    }

    /** Undoes the latest grant (it was not used). */
    void giveBack() {
      if (!window.isEmpty()) {
        window.pollLast();
        bucket.addTokens(1);
      }
    }

    /**
     * When a useful batch of grants (a tenth of a second's worth, or what is wanted) can be had.
     */
    Duration nextIn(int wanted, long now) {
      long bucketWait =
          bucket
              .estimateAbilityToConsume(Math.max(1, Math.min(wanted, step)))
              .getNanosToWaitForRefill();
      long windowWait = window.size() >= mps ? window.peekFirst() + windowNanos - now : 0;
      return Duration.ofNanos(Math.max(1_000_000, Math.max(bucketWait, windowWait)));
    }
  }
}
