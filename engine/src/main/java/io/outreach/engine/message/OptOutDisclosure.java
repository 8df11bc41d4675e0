package io.outreach.engine.message;

import java.util.regex.Pattern;

/**
 * The line that tells a recipient how to stop further messages. Carriers expect it on marketing
 * texts, but a template that already says it in its own words should not say it twice.
 */
public final class OptOutDisclosure {

  /** What is appended when the text does not tell how to opt out already. */
  public static final String LINE = "Reply STOP to opt out";

  private static final String QUOTE = "[\"'“”‘’]?";
  private static final String ACTION =
      "(?:opt[\\s-]?out|unsubscribe|unsub|end|quit|cancel|stop|revoke)";

  /**
   * STOP next to the way to send it or to what it does: "Reply STOP", "Text 'STOP'", "Txt STOP",
   * "reply with STOP", "STOP to opt out", "STOP=stop", "STOP2END", "Opt out: STOP". The word STOP
   * alone is not enough ("we won't stop until ..."), nor is an action word alone.
   */
  private static final Pattern DISCLOSURE =
      Pattern.compile(
          String.join(
              "|",
              "\\b(?:reply|text|txt|send|respond|sms)\\s+(?:with\\s+)?" + QUOTE + "stop\\b",
              // No \\b after this STOP, so that "STOP2END" matches.
              "\\bstop" + QUOTE + "\\s*(?:=|:|2|to\\b)\\s*" + ACTION + "\\b",
              "\\b(?:opt[\\s-]?out|unsubscribe|unsub)\\s*[:=-]?\\s*" + QUOTE + "stop\\b"),
          Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

  private OptOutDisclosure() {}

  /** Whether the text already tells how to opt out. */
  public static boolean hasDisclosure(String body) {
    return DISCLOSURE.matcher(body).find();
  }

  /** The text with {@link #LINE} on a line of its own at the end, unless it has a disclosure. */
  public static String withDisclosure(String body) {
    if (hasDisclosure(body)) {
      return body;
    }
    return body.isEmpty() ? LINE : body + "\n" + LINE;
  }
}
