package io.outreach.engine.spend;

/**
 * What a call is billed in: started minutes (Twilio's {@code Duration}: 49 seconds are 1 minute, 61
 * are 2, an unanswered call 0). Before a call is placed its length is estimated from what it says:
 * the message spoken at {@link #WORDS_PER_MINUTE}, the opt-out prompt and the wait for a key
 * ({@link #PROMPT_SECONDS}), rounded up to started minutes.
 */
public final class CallMinutes {
  /** A text-to-speech voice's pace. */
  static final int WORDS_PER_MINUTE = 150;

  /** The opt-out prompt, the wait for a key or a word, and the greeting around the message. */
  static final int PROMPT_SECONDS = 20;

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
}
