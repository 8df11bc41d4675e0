package io.outreach.engine.lead;

import java.util.Locale;

/**
 * What an enrichment provider answers, normalized as a lead's own fields are: an email trimmed,
 * lower-cased and syntax-checked (the same check as an import's), a US state name or code as its
 * 2-letter code, text trimmed with blank as absent.
 */
public final class EnrichedFields {
  private EnrichedFields() {}

  /** The email as a lead stores it, or null if there is none or it is not valid. */
  public static String email(String given) {
    String e = text(given);
    if (e == null) {
      return null;
    }
    e = e.toLowerCase(Locale.ROOT);
    return EmailSyntax.isValid(e) ? e : null;
  }

  /** The 2-letter code of a US state's name or code, or null. */
  public static String usState(String nameOrCode) {
    String s = text(nameOrCode);
    return s == null ? null : UsStates.codeOf(s);
  }

  /** Trimmed text, null when blank. */
  public static String text(String given) {
    if (given == null) {
      return null;
    }
    String t = given.strip();
    return t.isEmpty() ? null : t;
  }
}
