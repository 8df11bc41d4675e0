package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.util.Map;

/**
 * What one block of at most 500 recipients has come to: for the first message, how many were
 * sent, failed or blocked (by reason) and how many wait for their legal hours ({@code deferred});
 * and how many follow-ups were sent or stopped (a reply, a rule).
 */
public record BlockOutcome(
    int block,
    long sent,
    long failed,
    Map<BlockReason, Long> blocked,
    long deferred,
    long followUpsSent,
    long followUpsStopped)
    implements CborSerializable {}
