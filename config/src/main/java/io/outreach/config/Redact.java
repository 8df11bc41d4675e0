package io.outreach.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks personal data and credentials before they reach a log line: phone numbers keep their
 * country/area prefix and last two digits, tokens and secrets keep only a short prefix.
 */
public final class Redact {
  private static final Pattern PHONE = Pattern.compile("(?<![#\\w-])\\+?\\d[\\d\\s().-]{8,}\\d");
  private static final Pattern JWT =
      Pattern.compile("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
  private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)\\S+");

  private Redact() {}

  /** A phone number shown as {@code +1555*****67}. */
  public static String phone(String phone) {
    if (phone == null) {
      return null;
    }
    int keep = Math.min(5, Math.max(0, phone.length() - 4));
    StringBuilder b = new StringBuilder(phone.length());
    for (int i = 0; i < phone.length(); i++) {
      char ch = phone.charAt(i);
      boolean visible = i < keep || i >= phone.length() - 2 || !Character.isDigit(ch);
      b.append(visible ? ch : '*');
    }
    return b.toString();
  }

  /** A secret or token shown by its first four characters only. */
  public static String secret(String secret) {
    if (secret == null) {
      return null;
    }
    return secret.length() <= 4 ? "****" : secret.substring(0, 4) + "****";
  }

  /** Masks every phone number, JWT and bearer credential found in free text. */
  public static String text(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = BEARER.matcher(text).replaceAll("$1****");
    out = JWT.matcher(out).replaceAll(m -> Matcher.quoteReplacement(secret(m.group())));
    return PHONE.matcher(out).replaceAll(m -> Matcher.quoteReplacement(phone(m.group())));
  }
}
