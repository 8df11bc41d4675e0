package io.outreach.engine.gianna;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Classifies a person's reply (the port Gianna classifies through): a model behind an API, or the
 * offline rules. Answers a {@link Classification}; a failure is an answer, never an exception.
 */
public interface ReplyClassifier {

  /** One reply to classify, with the messages before it in the thread (oldest first). */
  record Request(String tenantId, String programName, String body, List<Turn> thread) {}

  /** A message of the thread: ours ({@code outbound}) or the person's. */
  record Turn(boolean outbound, String body) {}

  CompletionStage<Classification> classify(Request request);
}
