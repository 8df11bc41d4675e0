package io.outreach.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** One condition {@code /health/ready} requires; a failed or late check means not ready. */
public interface ReadinessCheck {
  String name();

  CompletionStage<Boolean> check();

  /** A check named {@code name} that runs {@code check}. */
  static ReadinessCheck of(String name, Supplier<CompletionStage<Boolean>> check) {
    return new ReadinessCheck() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public CompletionStage<Boolean> check() {
        return check.get();
      }
    };
  }

  /**
   * A check named {@code name} that blocks in {@code check}, on the probes' one thread of their
   * own: a tenant's load on the pools and the blocking dispatcher never delays it.
   */
  static ReadinessCheck blocking(String name, BooleanSupplier check) {
    return of(name, () -> CompletableFuture.supplyAsync(check::getAsBoolean, Probes.THREAD));
  }

  /** The thread of the blocking checks. */
  final class Probes {
    static final Executor THREAD =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "readiness-checks");
              t.setDaemon(true);
              return t;
            });

    private Probes() {}
  }
}
