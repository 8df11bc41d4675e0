package io.outreach.engine;

/**
 * Marker for every message, event and snapshot that crosses a node or reaches the journal; bound to
 * Pekko's jackson-cbor serializer in {@code serialization.conf}.
 */
public interface CborSerializable {}
