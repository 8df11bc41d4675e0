package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;

/**
 * A recipient a block decided not to send to when it planned (the gate, its template, the budget),
 * naming the rule ({@link BlockEntity.Planned}).
 */
public record BlockedRecipient(long recipient, BlockReason reason, String rule)
    implements CborSerializable {}
