package io.outreach.http;

import java.util.concurrent.CompletionStage;
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
}
