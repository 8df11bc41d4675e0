package io.outreach.engine.message;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Recognises the carrier keywords in an inbound reply: a reply that is nothing but STOP (or one of
 * its synonyms), START or HELP. The set is Twilio's defaults plus REVOKE and OPTOUT, which the FCC
 * presumes to be a revocation of consent since 2025-04-11.
 *
 * <p>Only the whole reply counts: "stop texting me" or "please don't stop" are sentences, left to
 * the reply classifier, which decides on meaning rather than spelling.
 */
public final class OptOutKeywords {

  /** What a keyword asks for. */
  public enum Keyword {
    /** Revoke consent: send nothing more but one confirmation. */
    OPT_OUT,
    /** Give consent again after an opt-out. */
    OPT_IN,
    /** Ask who is texting and how to stop. */
    HELP
  }

  private static final Map<String, Keyword> KEYWORDS =
      Map.ofEntries(
          Map.entry("STOP", Keyword.OPT_OUT),
          Map.entry("STOPALL", Keyword.OPT_OUT),
          Map.entry("STOP ALL", Keyword.OPT_OUT),
          Map.entry("UNSUBSCRIBE", Keyword.OPT_OUT),
          Map.entry("CANCEL", Keyword.OPT_OUT),
          Map.entry("END", Keyword.OPT_OUT),
          Map.entry("QUIT", Keyword.OPT_OUT),
          Map.entry("REVOKE", Keyword.OPT_OUT),
          Map.entry("OPTOUT", Keyword.OPT_OUT),
          Map.entry("OPT OUT", Keyword.OPT_OUT),
          Map.entry("OPT-OUT", Keyword.OPT_OUT),
          Map.entry("START", Keyword.OPT_IN),
          Map.entry("YES", Keyword.OPT_IN),
          Map.entry("UNSTOP", Keyword.OPT_IN),
          Map.entry("HELP", Keyword.HELP),
          Map.entry("INFO", Keyword.HELP));

  /**
   * Whitespace (including the no-break and other Unicode spaces phones insert) and the punctuation
   * people add around a keyword: "Stop.", "STOP!!", "\"STOP\"".
   */
  private static final Pattern LEADING = Pattern.compile("^[\\s\\p{Z}\"'“‘]+");

  private static final Pattern TRAILING = Pattern.compile("[\\s\\p{Z}\\p{P}]+$");
  private static final Pattern INNER_SPACE = Pattern.compile("[\\s\\p{Z}]+");

  private OptOutKeywords() {}

  /** The keyword the whole reply is, if it is one. */
  public static Optional<Keyword> classify(String text) {
    String word = LEADING.matcher(text).replaceFirst("");
    word = TRAILING.matcher(word).replaceFirst("");
    word = INNER_SPACE.matcher(word).replaceAll(" ").toUpperCase(Locale.ROOT);
    return Optional.ofNullable(KEYWORDS.get(word));
  }
}
