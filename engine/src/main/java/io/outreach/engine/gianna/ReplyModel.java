package io.outreach.engine.gianna;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The model Gianna classifies with (the Anthropic Messages API, or its sandbox twin): which model a
 * tenant's replies go to (none without a key: the tenant's own, or the engine's), and the call. A
 * failure is a {@link Classification.Failed}, never an exception.
 */
public interface ReplyModel {

  /** The model name the tenant's replies go to, or empty when it has no key. */
  Optional<String> model(String tenantId);

  /** Classifies one reply with the tenant's key. */
  CompletionStage<Classification> classify(String tenantId, ReplyClassifier.Request request);

  /** The most output tokens a call may take ({@code max_tokens}). */
  int maxTokens();
}
