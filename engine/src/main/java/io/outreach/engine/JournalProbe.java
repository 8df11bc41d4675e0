package io.outreach.engine;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * Proves the journal is writable: each probe persists one event and answers once it is durable. A
 * broken journal configuration does not stop the ActorSystem (it only fails entities later), so
 * startup and readiness ask this probe. Old probe events are deleted on snapshot: they are untagged
 * and no projection reads them.
 */
public final class JournalProbe
    extends EventSourcedBehaviorWithEnforcedReplies<
        JournalProbe.Probe, JournalProbe.Probed, JournalProbe.Count> {

  /** Persist one event and answer with the number written so far. */
  public record Probe(ActorRef<StatusReply<Long>> replyTo) implements CborSerializable {}

  /** One probe write. */
  public enum Probed implements CborSerializable {
    INSTANCE
  }

  /** Probe writes so far. */
  public record Count(long value) implements CborSerializable {}

  private JournalProbe(String nodeId) {
    super(
        PersistenceId.of("JournalProbe", nodeId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
  }

  /** A probe for one node; {@code nodeId} must be unique per node (host and port). */
  public static Behavior<Probe> create(String nodeId) {
    return new JournalProbe(nodeId);
  }

  @Override
  public Count emptyState() {
    return new Count(0);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(50, 1).withDeleteEventsOnSnapshot();
  }

  @Override
  public CommandHandlerWithReply<Probe, Probed, Count> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(
            Probe.class,
            (s, c) ->
                Effect()
                    .persist(Probed.INSTANCE)
                    .thenReply(c.replyTo(), n -> StatusReply.success(n.value())))
        .build();
  }

  @Override
  public EventHandler<Count, Probed> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Probed.class, (s, e) -> new Count(s.value() + 1))
        .build();
  }
}
