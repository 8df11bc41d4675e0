package io.outreach.engine.intake;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.lead.RowError;
import java.time.Instant;
import java.util.List;

/** An import as its entity reports it; counts are progress while it runs. */
public record ImportStatus(
    String importId,
    ImportJob.Status status,
    long rows,
    long accepted,
    long duplicates,
    long rejected,
    long errorCount,
    List<RowError> errors,
    String failure,
    Instant receivedAt,
    Instant finishedAt)
    implements CborSerializable {}
