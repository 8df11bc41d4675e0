package io.outreach.http;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The engine's readiness as a Pekko Management readiness check ({@code
 * pekko.management.health-checks.readiness-checks.outreach}), so the management port's {@code
 * /ready}, which Kubernetes probes, says what {@code /health/ready} says (database, journal, member
 * up) besides Pekko's own checks. Not ready until the node has registered its checks, which it does
 * once its HTTP server is bound.
 */
public final class EngineReadiness implements Supplier<CompletionStage<Boolean>> {
  private static final Duration DEADLINE = Duration.ofSeconds(3);
  private static final Map<ActorSystem, List<ReadinessCheck>> NODES = new ConcurrentHashMap<>();

  private final ActorSystem system;

  /** Made by Pekko Management for {@code system}. */
  public EngineReadiness(ActorSystem system) {
    this.system = system;
  }

  /** The node on {@code system} is serving: its checks decide its readiness from now on. */
  static void register(org.apache.pekko.actor.typed.ActorSystem<?> system, List<ReadinessCheck> c) {
    ActorSystem classic = Adapter.toClassic(system);
    NODES.put(classic, List.copyOf(c));
    classic.registerOnTermination(() -> NODES.remove(classic));
  }

  @Override
  public CompletionStage<Boolean> get() {
    List<ReadinessCheck> checks = NODES.get(system);
    if (checks == null) {
      return CompletableFuture.completedFuture(false);
    }
    List<CompletableFuture<Boolean>> running =
        checks.stream()
            .map(
                c -> {
                  try {
                    return c.check()
                        .toCompletableFuture()
                        .completeOnTimeout(false, DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .exceptionally(e -> false);
                  } catch (RuntimeException e) {
                    return CompletableFuture.completedFuture(false);
                  }
                })
            .toList();
    return CompletableFuture.allOf(running.toArray(CompletableFuture[]::new))
        .thenApply(ignored -> running.stream().allMatch(CompletableFuture::join));
  }
}
