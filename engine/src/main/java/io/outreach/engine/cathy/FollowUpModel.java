package io.outreach.engine.cathy;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The model Cathy drafts follow-ups with (the Anthropic Messages API, or its sandbox twin), with
 * the same key as Gianna's: the tenant's own, else the engine's, else none (then Cathy drafts
 * offline). A failure is a {@link FollowUpDraft.Failed}, never an exception.
 */
public interface FollowUpModel {

  /** The model name the tenant's drafts go to, or empty when it has no key. Blocking (cached). */
  Optional<String> model(String tenantId);

  /** Drafts one follow-up with the tenant's key. */
  CompletionStage<FollowUpDraft> draft(String tenantId, FollowUpDraft.Request request);

  /** The most output tokens a call may take ({@code max_tokens}). */
  int maxTokens();
}
