package io.outreach.engine;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable timers: entities that wait for a time (a deferred recipient, a follow-up step) store a
 * wake-up time in {@link ResumableWork}; this poller wakes those whose time has come, also after a
 * restart. One instance runs in the cluster (a sharded daemon process of one), so an entity is not
 * woken once per node. An entity alive at its time has usually woken itself already with an
 * in-memory timer; the extra wake-up finds nothing new to do.
 */
public final class WakeUps {
  private static final Logger log = LoggerFactory.getLogger(WakeUps.class);

  private WakeUps() {}

  /** How to wake one entity type. */
  public record Waker<M>(EntityTypeKey<M> key, Function<String, M> wake) {
    void wakeAll(ClusterSharding sharding, List<String> ids) {
      ids.forEach(id -> sharding.entityRefFor(key, id).tell(wake.apply(id)));
    }
  }

  private enum Tick {
    INSTANCE
  }

  /** Starts the poller, checking every {@code interval}. */
  public static void init(
      ActorSystem<?> system,
      ResumableWork work,
      Duration interval,
      Clock clock,
      List<Waker<?>> wakers) {
    ShardedDaemonProcess.get(system)
        .init(
            Tick.class,
            "wake-ups",
            1,
            i -> poller(work, interval, clock, List.copyOf(wakers)),
            ShardedDaemonProcessSettings.create(system),
            Optional.empty());
  }

  private static Behavior<Tick> poller(
      ResumableWork work, Duration interval, Clock clock, List<Waker<?>> wakers) {
    return Behaviors.setup(
        ctx -> {
          ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
          Executor blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
          return Behaviors.withTimers(
              timers -> {
                timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
                return Behaviors.receiveMessage(
                    tick -> {
                      CompletableFuture.runAsync(
                              () ->
                                  wakers.forEach(
                                      w ->
                                          w.wakeAll(
                                              sharding,
                                              work.dueIds(w.key().name(), clock.instant()))),
                              blocking)
                          .exceptionally(
                              e -> {
                                log.warn("wake-up poll failed: {}", e.toString());
                                return null;
                              });
                      return Behaviors.same();
                    });
              });
        });
  }
}
