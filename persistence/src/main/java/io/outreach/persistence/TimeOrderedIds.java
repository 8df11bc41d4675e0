package io.outreach.persistence;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * UUIDs of version 7 (RFC 9562): a millisecond timestamp then random bits. Ids made in sequence
 * land next to each other in a B-tree, so inserting a million leads appends to the primary key
 * index instead of touching random pages of it, as version 4 ids would.
 */
final class TimeOrderedIds {
  private TimeOrderedIds() {}

  static UUID next() {
    // Not secret: a lead id only names a row its tenant may already see.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low);
  }
}
