package io.outreach.engine.campaign;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Sticky senders by rendezvous (highest-random-weight) hashing: a number always gets the sender
 * that scores highest for it, so a person keeps hearing from one number across campaigns; adding a
 * sender moves only the numbers the new one wins, removing one moves only its own numbers.
 */
final class StickySender {
  private StickySender() {}

  static String choose(List<String> senders, String phone) {
    if (senders.size() == 1 || phone == null) {
      return senders.get(0);
    }
    String best = null;
    long bestScore = Long.MIN_VALUE;
    for (String s : senders) {
      long score = mix(hash(s) * 31 + hash(phone));
      if (best == null || score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  private static long hash(String s) {
    long h = 1125899906842597L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = 31 * h + b;
    }
    return h;
  }

  /** The 64-bit finalizer of SplitMix64: spreads nearby inputs over the whole range. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
