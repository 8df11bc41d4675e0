package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;
import java.time.Instant;

/**
 * A stored inbound message of a person: its dedup key, the provider, the person's number ({@code
 * from}) and the tenant's number it was sent to ({@code to}), its text, when it arrived, and what
 * it did to consent.
 */
public record InboundMessage(
    String key,
    String provider,
    String from,
    String to,
    String body,
    Instant at,
    InboundEffect effect)
    implements CborSerializable {}
