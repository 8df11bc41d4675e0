package io.outreach.engine;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lost node's work resumes on the survivors. An entity runs where its shard is; when its node is
 * downed (the Split Brain Resolver, after {@code stable-after}) or leaves, its shards move, but an
 * entity there starts again only when something messages it. So once in the cluster (a sharded
 * daemon process of one) this wakes every entity with unfinished work ({@link ResumableWork}) 3, 10
 * and 30 s after a member is removed, and when it starts itself (it may have moved from the lost
 * node, whose removal it then did not see). A wake-up is idempotent: an entity with nothing new to
 * do ignores it.
 */
public final class LostNodeWork {
  private static final Logger log = LoggerFactory.getLogger(LostNodeWork.class);

  private LostNodeWork() {}

  /** Messages of the process. */
  private sealed interface Message {}

  /** A member was removed. */
  private record Removed(String address) implements Message {}

  /** Time to wake the unfinished work (again). */
  private record WakeAll(String address, int round) implements Message {}

  /**
   * When to wake after a removal. Not at once: a node's shard regions may still route to the
   * removed member until they have seen its removal and the coordinator has placed its shards
   * again; a wake-up sent there is lost. Again later, for a busy node that sees it late.
   */
  private static final List<java.time.Duration> ROUNDS =
      List.of(
          java.time.Duration.ofSeconds(3),
          java.time.Duration.ofSeconds(10),
          java.time.Duration.ofSeconds(30));

  /** Starts the one instance in the cluster. */
  public static void init(
      org.apache.pekko.actor.typed.ActorSystem<?> system,
      ResumableWork work,
      List<WakeUps.Waker<?>> wakers) {
    ShardedDaemonProcess.get(system)
        .init(
            Message.class,
            "lost-node-work",
            1,
            i -> behavior(work, List.copyOf(wakers)),
            ShardedDaemonProcessSettings.create(system),
            Optional.empty());
  }

  private static Behavior<Message> behavior(ResumableWork work, List<WakeUps.Waker<?>> wakers) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
                  Executor blocking =
                      ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
                  Runnable wakeAll =
                      () ->
                          CompletableFuture.runAsync(
                                  () ->
                                      wakers.forEach(
                                          w -> {
                                            List<String> ids = work.entityIds(w.key().name());
                                            w.wakeAll(sharding, ids);
                                            if (!ids.isEmpty()) {
                                              log.info(
                                                  "woke {} {} entities with unfinished work",
                                                  ids.size(),
                                                  w.key().name());
                                            }
                                          }),
                                  blocking)
                              .exceptionally(
                                  e -> {
                                    log.warn("waking a lost node's work failed: {}", e.toString());
                                    return null;
                                  });
                  Cluster.get(ctx.getSystem())
                      .subscriptions()
                      .tell(
                          Subscribe.create(
                              ctx.messageAdapter(
                                  ClusterEvent.MemberRemoved.class,
                                  e -> new Removed(e.member().address().toString())),
                              ClusterEvent.MemberRemoved.class));
                  wakeAll.run();
                  return Behaviors.receive(Message.class)
                      .onMessage(
                          Removed.class,
                          removed -> {
                            log.info(
                                "member {} removed: waking its unfinished work in {}",
                                removed.address(),
                                ROUNDS);
                            timers.startSingleTimer(
                                removed.address(),
                                new WakeAll(removed.address(), 0),
                                ROUNDS.get(0));
                            return Behaviors.same();
                          })
                      .onMessage(
                          WakeAll.class,
                          w -> {
                            wakeAll.run();
                            if (w.round() + 1 < ROUNDS.size()) {
                              timers.startSingleTimer(
                                  w.address(),
                                  new WakeAll(w.address(), w.round() + 1),
                                  ROUNDS.get(w.round() + 1).minus(ROUNDS.get(w.round())));
                            }
                            return Behaviors.same();
                          })
                      .build();
                }));
  }
}
