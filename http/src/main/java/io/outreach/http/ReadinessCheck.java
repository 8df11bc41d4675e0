package io.outreach.http;

import java.util.concurrent.CompletionStage;

/** One condition {@code /health/ready} requires; a failed or late check means not ready. */
public interface ReadinessCheck {
  String name();

  CompletionStage<Boolean> check();
}
