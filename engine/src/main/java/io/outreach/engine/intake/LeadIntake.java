package io.outreach.engine.intake;

import java.util.concurrent.CompletionStage;
import java.util.function.LongConsumer;

/**
 * The port an {@link ImportJob} processes its upload through (implemented with PostgreSQL in {@code
 * persistence}). Processing is atomic: either every accepted row of the file becomes a lead, or
 * none does; and it runs at most once per import, so a re-run after a crash answers the stored
 * outcome.
 */
public interface LeadIntake {

  /** Parses, normalizes, dedupes and stores the upload; {@code progress} hears rows read. */
  CompletionStage<ImportOutcome> process(ImportSpec spec, LongConsumer progress);

  /** Records a failed import (its content may then be uploaded again). */
  CompletionStage<Void> markFailed(String tenantId, String importId);

  /** An import that cannot succeed however often it is tried (a broken file). */
  final class PermanentFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PermanentFailure(String message) {
      super(message);
    }
  }
}
