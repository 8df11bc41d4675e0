package io.outreach.engine.intake;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.lead.RowError;
import java.util.List;

/**
 * The result of an import. {@code rows} data rows = {@code accepted} (new leads) + {@code
 * duplicates} (rows merged into an earlier row or an existing lead) + {@code rejected} (invalid
 * rows). {@code errors} holds the first {@link #MAX_ERRORS} row errors; {@code errorCount} counts
 * them all.
 */
public record ImportOutcome(
    long rows,
    long accepted,
    long duplicates,
    long rejected,
    long errorCount,
    List<RowError> errors)
    implements CborSerializable {
  public static final int MAX_ERRORS = 1000;
}
