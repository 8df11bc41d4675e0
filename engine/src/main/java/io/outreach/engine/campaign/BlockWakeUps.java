package io.outreach.engine.campaign;

import io.outreach.engine.campaign.BlockEntity.Command;
import io.outreach.engine.campaign.BlockEntity.Status;
import io.outreach.engine.campaign.BlockEntity.Wake;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * When a {@link BlockEntity} wakes next, and when it may leave memory meanwhile. The next wake-up
 * is an in-memory timer for the precise work and, while only future work is left, a durable row
 * ({@link BlockPorts#wakeAt}) that survives a restart or a passivation: the poller wakes the block
 * when the row's time has come, and the shard starts it again for that message.
 *
 * <p>Waiting is not working: a block that holds no campaign slot (it gave it back, or its first
 * step is over), has nothing on its way, and whose stored wake-up is more than {@link #IDLE_BEYOND}
 * away asks its shard to passivate it; so does a block that is done. Without a shard (a unit test,
 * a block not started by sharding) it just stays.
 */
final class BlockWakeUps {
  /** A block whose next wake-up is nearer than this keeps its memory (and its in-memory timer). */
  static final Duration IDLE_BEYOND = Duration.ofMinutes(1);

  /** How soon a block whose next wake-up has passed looks again (its work is already under way). */
  static final Duration PAST_DUE_PAUSE = Duration.ofSeconds(1);

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final BlockPorts ports;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  // The wake-up last stored for this block: a time when only future work is left, empty while it
  // has work now or waits for a slot (its row then says "wake at start", so a crash in the middle
  // of sending still resumes); null until stored once by this incarnation.
  private Optional<Instant> stored;

  /** {@code shard}: the block's shard, or null when it runs without sharding. */
  BlockWakeUps(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      BlockPorts ports,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    this.ctx = ctx;
    this.timers = timers;
    this.ports = ports;
    this.shard = shard;
  }

  /**
   * Sets the next wake-up of {@code s} after {@code now}: in memory always, durably when the block
   * is {@code idle} (nothing on its way), else the row says "wake at start".
   */
  void schedule(BlockState s, Instant now, boolean idle) {
    Optional<Instant> next = s.nextWake(now);
    if (next.isPresent()) {
      // A time already passed belongs to work taken up now (queued, asking, on its way) whose
      // answer wakes the block itself: look again after a pause, never in a loop of zero timers.
      Duration in = Duration.between(now, next.get());
      timers.startSingleTimer(
          "wake", Wake.INSTANCE, in.isNegative() || in.isZero() ? PAST_DUE_PAUSE : in);
    }
    Optional<Instant> durable = idle ? next : Optional.empty();
    if (!durable.equals(stored)) {
      stored = durable;
      ports.wakeAt(s.spec(), durable);
    }
  }

  /**
   * Passivates a block that holds no slot and is {@code quiet} (nothing on its way, nothing being
   * loaded) once its next wake-up is stored and more than {@link #IDLE_BEYOND} after {@code now}. A
   * waiting block with first messages due waits for its campaign's grant in memory.
   */
  void sleepIfIdle(BlockState s, Instant now, boolean quiet) {
    boolean holdsNoSlot = s.waiting() || s.status() == Status.FOLLOWING;
    boolean awaitsGrant = s.waiting() && s.due(now).stream().anyMatch(x -> x.step() == 0);
    Optional<Instant> next = s.nextWake(now);
    if (holdsNoSlot
        && !awaitsGrant
        && quiet
        && next.isPresent()
        && next.equals(stored)
        && next.get().isAfter(now.plus(IDLE_BEYOND))) {
      passivate();
    }
  }

  /** Asks the shard to stop the block: all it needs again is in its journal and its stored row. */
  void passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
  }
}
