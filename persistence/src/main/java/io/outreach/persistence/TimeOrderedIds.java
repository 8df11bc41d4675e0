package io.outreach.persistence;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * UUIDs of version 7 (RFC 9562): a millisecond timestamp then random bits. Ids made in sequence
 * land next to each other in a B-tree, so inserting a million leads appends to the primary key
 * index instead of touching random pages of it, as version 4 ids would.
 */
final class TimeOrderedIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private TimeOrderedIds() {}

  static UUID next() {
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long low = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low);
  }
}
