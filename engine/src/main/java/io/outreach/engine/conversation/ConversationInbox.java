package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * A tenant's inbox (entity id: the tenant): processes the inbound messages its webhooks stored, a
 * batch per transaction, one batch at a time. Wakes that arrive while a batch is being written make
 * the next batch, so a burst of replies costs a few transactions, not one per message, and the
 * messages of a person are processed in the order they arrived. The state is the stored messages
 * themselves (nothing is journaled here): after a crash the tenant's marker wakes it at start.
 * Messages that want an answer (a confirmation, the help text) go on to the person's {@link
 * ConversationEntity}. The marker is removed once the inbox has been idle for {@link #SETTLE} (not
 * after every batch: under a steady stream of replies that would be a transaction per batch, and
 * the writers would add it again at once).
 */
public final class ConversationInbox {
  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "ConversationInbox");
  static final Duration RETRY = Duration.ofSeconds(2);
  static final Duration SETTLE = Duration.ofSeconds(2);

  private ConversationInbox() {}

  /** Commands of the inbox. */
  public sealed interface Command extends CborSerializable {}

  /** Inbound messages were stored (told after each webhook that stored one, and at start). */
  public enum Wake implements Command {
    INSTANCE
  }

  /** Internal: a batch was processed, or failed. */
  record Processed(InboxBatch batch, String error) implements Command {}

  /** Internal: idle for {@link #SETTLE}. */
  enum Settle implements Command {
    INSTANCE
  }

  public static Behavior<Command> create(String tenantId, InboxPorts ports) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new Run(tenantId, ports, ctx, timers).idle()));
  }

  /** Registers the sharded inboxes (one per tenant) on this node. */
  public static void init(ActorSystem<?> system, InboxPorts ports) {
    ClusterSharding.get(system)
        .init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ports)));
  }

  private static final class Run {
    private final String tenantId;
    private final InboxPorts ports;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;

    Run(
        String tenantId,
        InboxPorts ports,
        ActorContext<Command> ctx,
        TimerScheduler<Command> timers) {
      this.tenantId = tenantId;
      this.ports = ports;
      this.ctx = ctx;
      this.timers = timers;
    }

    Behavior<Command> idle() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Wake.INSTANCE, this::process)
          .onMessageEquals(Settle.INSTANCE, this::settle)
          .build();
    }

    private Behavior<Command> settle() {
      ports
          .settle(tenantId)
          .whenComplete(
              (ok, err) -> {
                if (err != null) {
                  // The marker stays: the inbox is woken at the next start and finds nothing to do.
                  ctx.getLog()
                      .debug("inbox of {}: marker not settled ({})", tenantId, err.toString());
                }
              });
      return Behaviors.same();
    }

    private Behavior<Command> process() {
      timers.cancel(Settle.INSTANCE);
      ctx.pipeToSelf(
          ports.processNext(tenantId),
          (batch, err) ->
              new Processed(batch, err == null ? null : String.valueOf(err.getMessage())));
      return busy(false);
    }

    /** A batch is being written; {@code woken}: more was stored meanwhile. */
    private Behavior<Command> busy(boolean woken) {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Wake.INSTANCE, () -> woken ? Behaviors.same() : busy(true))
          .onMessage(Processed.class, p -> done(p, woken))
          .build();
    }

    private Behavior<Command> done(Processed p, boolean woken) {
      if (p.error() != null) {
        ctx.getLog()
            .warn(
                "inbox of {}: could not process inbound messages ({}); retrying",
                tenantId,
                p.error());
        timers.startSingleTimer(Wake.INSTANCE, RETRY);
        return idle();
      }
      p.batch().toAnswer().forEach(phone -> ports.answer(tenantId, phone));
      if (p.batch().classify()) {
        ports.classify(tenantId);
      }
      if (woken || p.batch().full()) {
        return process();
      }
      timers.startSingleTimer(Settle.INSTANCE, SETTLE);
      return idle();
    }
  }
}
