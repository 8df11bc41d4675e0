package io.outreach.engine.outbound;

import io.outreach.engine.CborSerializable;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * STOP-to-silence across the cluster: an opt-out's answer waits until every call to the person
 * under way on any node has its provider's answer (docs/decisions/093, 135). Each node serves its
 * own calls ({@link OneWayOut#quietHere}) to the others through the receptionist; {@link #quiet}
 * asks every node it knows of and completes when all have answered, or after {@code atMost}.
 */
public final class ClusterQuiet {
  /** Every node's listener. */
  static final ServiceKey<Quiet> KEY = ServiceKey.create(Quiet.class, "outreach-quiet");

  /** Wait until the calls to {@code phone} under way on this node are answered. */
  public record Quiet(String tenantId, String phone, Duration atMost, ActorRef<Quieted> replyTo)
      implements CborSerializable {}

  /** This node has no call to the person under way any more (or waited {@code atMost}). */
  public enum Quieted implements CborSerializable {
    INSTANCE
  }

  private final ActorSystem<?> system;
  private final OneWayOut out;
  private final AtomicReference<Set<ActorRef<Quiet>>> nodes;

  private ClusterQuiet(
      ActorSystem<?> system, OneWayOut out, AtomicReference<Set<ActorRef<Quiet>>> nodes) {
    this.system = system;
    this.out = out;
    this.nodes = nodes;
  }

  /** Serves this node's calls to the cluster and follows the other nodes'. */
  static ClusterQuiet start(ActorSystem<?> system, OneWayOut out) {
    AtomicReference<Set<ActorRef<Quiet>>> nodes = new AtomicReference<>(Set.of());
    ActorRef<Quiet> listener = system.systemActorOf(listener(out), "outreach-quiet", Props.empty());
    system.receptionist().tell(Receptionist.register(KEY, listener));
    system.systemActorOf(follower(nodes), "outreach-quiet-nodes", Props.empty());
    return new ClusterQuiet(system, out, nodes);
  }

  private static Behavior<Quiet> listener(OneWayOut out) {
    return Behaviors.receive(Quiet.class)
        .onMessage(
            Quiet.class,
            q -> {
              out.quietHere(q.tenantId(), q.phone(), q.atMost())
                  .whenComplete((ok, err) -> q.replyTo().tell(Quieted.INSTANCE));
              return Behaviors.same();
            })
        .build();
  }

  private static Behavior<Receptionist.Listing> follower(
      AtomicReference<Set<ActorRef<Quiet>>> nodes) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY, ctx.getSelf()));
          return Behaviors.receiveMessage(
              listing -> {
                nodes.set(Set.copyOf(listing.getServiceInstances(KEY)));
                return Behaviors.same();
              });
        });
  }

  /**
   * Completes when every node has no call to the person under way that started before this was
   * asked, or after {@code atMost}; a node that does not answer in time is not waited for longer.
   */
  public CompletionStage<Void> quiet(String tenantId, String phone, Duration atMost) {
    if (nodes.get().isEmpty()) {
      return out.quietHere(tenantId, phone, atMost); // the listing has not reached this node yet
    }
    List<CompletableFuture<Quieted>> answers =
        nodes.get().stream()
            .map(
                node ->
                    AskPattern.<Quiet, Quieted>ask(
                            node,
                            r -> new Quiet(tenantId, phone, atMost, r),
                            atMost.plusMillis(200),
                            system.scheduler())
                        .toCompletableFuture()
                        .exceptionally(e -> Quieted.INSTANCE))
            .toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
        .completeOnTimeout(null, atMost.plusMillis(200).toMillis(), TimeUnit.MILLISECONDS);
  }
}
