package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.BlockReason;
import java.util.Map;

/** What one block of at most 500 recipients ended with. */
public record BlockOutcome(int block, long sent, long failed, Map<BlockReason, Long> blocked)
    implements CborSerializable {}
