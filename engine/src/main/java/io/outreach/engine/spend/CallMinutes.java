package io.outreach.engine.spend;

/**
 * What a call is billed in: started minutes (Twilio's {@code Duration}: 49 seconds are 1 minute, 61
 * are 2, an unanswered call 0). Before a call is placed its length is estimated from what it says:
 * the message spoken at {@link #WORDS_PER_MINUTE}, the opt-out prompt and the wait for a key
 * ({@link #PROMPT_SECONDS}), rounded up to started minutes. Its limit is the estimate and {@link
 * #HEADROOM_MINUTES} more: the provider ends the call there ({@code TimeLimit}), so it is the most
 * the call can cost, what the spend ledger holds for it until its final status.
 */
public final class CallMinutes {
  /** A text-to-speech voice's pace. */
  static final int WORDS_PER_MINUTE = 150;

  /** The opt-out prompt, the wait for a key or a word, and the greeting around the message. */
  static final int PROMPT_SECONDS = 20;

  /** Room beyond the estimate for a slow answer or a greeting before the message. */
  static final int HEADROOM_MINUTES = 1;

  private CallMinutes() {}

  /** The started minutes of a call that lasted {@code seconds} (0 for none). */
  public static long billed(long seconds) {
    return seconds <= 0 ? 0 : (seconds + 59) / 60;
  }

  /** The started minutes a call speaking {@code say} is expected to take, at least 1. */
  public static long estimated(String say) {
    String text = say == null ? "" : say.trim();
    int words = text.isEmpty() ? 0 : text.split("\\s+").length;
    long seconds = PROMPT_SECONDS + (words * 60L + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE;
    return Math.max(1, billed(seconds));
  }

  /** The started minutes a call speaking {@code say} may last at most: its {@code TimeLimit}. */
  public static long limit(String say) {
    return estimated(say) + HEADROOM_MINUTES;
  }

  /** The spend ledger's key of a campaign's call: its cost is committed once, under it. */
  public static String chargeKey(String campaignId, long recipient, int step) {
    return "call:" + campaignId + ":" + recipient + ":" + step;
  }
}
