package io.outreach.engine.lead;

/**
 * Whether an email address looks deliverable: a local part of dot-separated atoms, one {@code @},
 * then dot-separated domain labels ending in a top-level label that starts with a letter. It is the
 * regular expression
 *
 * <pre>
 * ATOM (\.ATOM)* @ (LABEL\.)+ \p{L}[\p{L}\p{N}-]{0,61}[\p{L}\p{N}]
 *   ATOM  = [\p{L}\p{N}!#$%&amp;'*+/=?^_`{|}~-]+
 *   LABEL = [\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?
 * </pre>
 *
 * <p>checked by hand in one pass over the code points, because every imported row runs it and the
 * regex engine's backtracking cost about a fifth of normalizing a row. {@code EmailSyntaxTest}
 * proves the two agree. Lengths count code points, as the regex does.
 */
final class EmailSyntax {
  private static final int MAX_LABEL = 63;

  private EmailSyntax() {}

  static boolean isValid(String address) {
    int at = address.indexOf('@');
    if (at <= 0 || address.indexOf('@', at + 1) >= 0) {
      return false;
    }
    return isLocalPart(address, 0, at) && isDomain(address, at + 1, address.length());
  }

  /** Atoms separated by single dots, none empty. */
  private static boolean isLocalPart(String s, int from, int to) {
    boolean atomStarted = false;
    for (int i = from; i < to; ) {
      int cp = s.codePointAt(i);
      if (cp == '.') {
        if (!atomStarted) {
          return false;
        }
        atomStarted = false;
      } else if (isAtomChar(cp)) {
        atomStarted = true;
      } else {
        return false;
      }
      i += Character.charCount(cp);
    }
    return atomStarted;
  }

  /** At least two dot-separated labels; the last one is the top-level label. */
  private static boolean isDomain(String s, int from, int to) {
    int labels = 0;
    int start = from;
    for (int i = from; i <= to; i++) {
      if (i == to || s.charAt(i) == '.') {
        boolean last = i == to;
        if (!(last ? isTopLevelLabel(s, start, i) : isLabel(s, start, i))) {
          return false;
        }
        labels++;
        start = i + 1;
      }
    }
    return labels >= 2;
  }

  /** 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit. */
  private static boolean isLabel(String s, int from, int to) {
    if (from == to) {
      return false;
    }
    int count = 0;
    int last = -1;
    for (int i = from; i < to; ) {
      int cp = s.codePointAt(i);
      boolean alnum = isLetterOrNumber(cp);
      if (!alnum && (cp != '-' || count == 0)) {
        return false;
      }
      last = cp;
      count++;
      i += Character.charCount(cp);
    }
    return count <= MAX_LABEL && last != '-';
  }

  /**
   * 2 to 63 letters, digits and hyphens, starting with a letter and ending with a letter or digit.
   */
  private static boolean isTopLevelLabel(String s, int from, int to) {
    if (from == to || !Character.isLetter(s.codePointAt(from))) {
      return false;
    }
    return isLabel(s, from, to) && s.codePointCount(from, to) >= 2;
  }

  private static boolean isAtomChar(int cp) {
    if (cp < 0x80) {
      return (cp >= 'a' && cp <= 'z')
          || (cp >= 'A' && cp <= 'Z')
          || (cp >= '0' && cp <= '9')
          || "!#$%&'*+/=?^_`{|}~-".indexOf(cp) >= 0;
    }
    return isLetterOrNumber(cp);
  }

  /**
   * {@code [\p{L}\p{N}]}: letters of any case or kind, decimal digits, letter and other numbers.
   */
  private static boolean isLetterOrNumber(int cp) {
    if (cp < 0x80) {
      return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    }
    if (Character.isLetter(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }
}
